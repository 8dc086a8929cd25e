import {Args, Flags} from '@oclif/core'
import {SpoolCommand, printJson} from '../../src/cli/base-command.js'
import {collidingName, validateTopicName} from '../../src/core/topic-name.js'
import {parseDuration, parseSize} from '../../src/core/units.js'
import {detailTopic} from '../../src/ops/topics.js'

export default class TopicCreate extends SpoolCommand {
  static override summary = 'Create a topic.'
  static override description = 'Names follow Kafka\'s rules: up to 249 ASCII letters, digits, ".", "_" and "-". Retention is enforced by the processes that use the topic; there is no daemon.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> clicks --partitions 3 --retention 7d',
    '<%= config.bin %> <%= command.id %> audit --retention-bytes 1GiB',
  ]

  static override args = {name: Args.string({description: 'Topic name.', required: true})}
  static override flags = {
    partitions: Flags.integer({char: 'p', summary: 'Number of partitions.', default: 1, min: 1}),
    retention: Flags.string({summary: 'Delete records older than this (e.g. 7d, 12h); default: keep forever.'}),
    'retention-bytes': Flags.string({summary: 'Keep at most this much per partition (e.g. 1GiB), oldest deleted first.'}),
    json: Flags.boolean({summary: 'Print the new topic as JSON.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(TopicCreate)
    validateTopicName(args.name)
    const settings = {
      partitions: flags.partitions,
      retentionMs: flags.retention === undefined ? undefined : parseDuration(flags.retention, '--retention'),
      retentionBytes: flags['retention-bytes'] === undefined ? undefined : parseSize(flags['retention-bytes'], '--retention-bytes'),
    }
    const backend = await this.openBackend(flags)
    const clash = collidingName(args.name, (await backend.listTopics()).map((t) => t.name))
    if (clash) process.stderr.write(`spool: warning: '${args.name}' and '${clash}' differ only in '.' and '_', which Kafka treats as colliding\n`)
    const info = await backend.createTopic(args.name, settings)
    if (flags.json) printJson(detailTopic(info))
    else process.stderr.write(`spool: created topic '${info.name}' (${info.partitions} partition${info.partitions === 1 ? '' : 's'})\n`)
  }
}
