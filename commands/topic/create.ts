import {retentionBytesFlag, retentionFlag} from '../../src/cli/flags.js'
import {Args, Flags} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {UsageError} from '../../src/core/errors.js'
import {collidingName, validateTopicName} from '../../src/core/topic-name.js'
import {detailTopic} from '../../src/ops/topics.js'

export default class TopicCreate extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Create a topic.'
  static override description = 'Names follow Kafka\'s rules: up to 249 ASCII letters, digits, ".", "_" and "-". Retention is enforced by the processes that use the topic; there is no daemon.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> clicks --partitions 3 --retention 7d',
    '<%= config.bin %> <%= command.id %> audit --retention-bytes 1GiB',
    '<%= config.bin %> <%= command.id %> users -b kafka://localhost:9092 -p 6 -r 3 -c cleanup.policy=compact',
  ]

  static override args = {name: Args.string({description: 'Topic name.', required: true})}
  static override flags = {
    partitions: Flags.integer({char: 'p', summary: 'Number of partitions.', default: 1, min: 1}),
    retention: retentionFlag({summary: 'Delete records older than this (e.g. 7d, 12h); default: forever.'}),
    'retention-bytes': retentionBytesFlag({summary: 'Keep at most this much per partition (e.g. 1GiB), oldest deleted first; default: no limit.'}),
    'replication-factor': Flags.integer({char: 'r', summary: 'Kafka: copies of each partition (default: the cluster\'s).', min: 1}),
    config: Flags.string({char: 'c', summary: 'Kafka: a topic config name=value (e.g. cleanup.policy=compact); repeat for more.', multiple: true}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TopicCreate)
    validateTopicName(args.name)
    const configs: Record<string, string> = {}
    for (const entry of flags.config ?? []) {
      const at = entry.indexOf('=')
      if (at <= 0) throw new UsageError(`--config '${entry}' is not name=value`, 'e.g. --config cleanup.policy=compact')
      configs[entry.slice(0, at)] = entry.slice(at + 1)
    }
    const settings = {
      partitions: flags.partitions,
      replicationFactor: flags['replication-factor'],
      configs,
      retentionMs: flags.retention,
      retentionBytes: flags['retention-bytes'],
    }
    const backend = await this.openBackend(flags, 'write')
    if (backend.kind === 'local' && ((settings.replicationFactor ?? 1) > 1 || Object.keys(configs).length > 0))
      throw new UsageError('--replication-factor and --config are Kafka settings; the local store keeps one copy', 'drop them, or use -b kafka://host:port')
    const clash = collidingName(args.name, (await backend.listTopics()).map((t) => t.name))
    if (clash) this.streams.err.write(`spool: warning: '${args.name}' and '${clash}' differ only in '.' and '_', which Kafka treats as colliding\n`)
    const info = await backend.createTopic(args.name, settings)
    if (this.jsonEnabled()) return detailTopic(info)
    this.streams.err.write(`spool: created topic '${info.name}' (${info.partitions} partition${info.partitions === 1 ? '' : 's'})\n`)
  }
}
