import {retentionBytesFlag, retentionFlag} from '../../src/cli/flags.js'
import {Args, Flags} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {UsageError} from '../../src/core/errors.js'
import {validateTopicName} from '../../src/core/topic-name.js'
import {describeRetention, detailTopic} from '../../src/ops/topics.js'

export default class TopicAlter extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Add partitions to a topic, or change its retention and configs.'
  static override description = `Partitions can only be added (as in Kafka): records already stored stay in their partitions, and keys are routed over the new count from then on, so a key may land on another partition than its older records. On the local store the change is one transaction, safe while other processes produce and read. Readers that follow the whole topic (tail, consume -f, pipe -f, without -p) read the new partitions from their first record: on the local store at once, on Kafka within 5 seconds; consume --merge -f keeps the partitions it started with. The local store knows the configs retention.ms and retention.bytes; on Kafka -c takes any topic config, changing only those named.`
  static override examples = [
    {description: 'Grow to 6 partitions', command: '<%= config.bin %> <%= command.id %> clicks -p 6'},
    {description: 'Keep a day of records, at most 1 GiB per partition', command: '<%= config.bin %> <%= command.id %> clicks --retention 1d --retention-bytes 1GiB'},
    {description: 'Kafka configs, then the new description as JSON', command: '<%= config.bin %> <%= command.id %> users -b kafka://localhost:9092 -c cleanup.policy=compact -c min.insync.replicas=2 --json'},
  ]

  static override args = {name: Args.string({description: 'Topic name.', required: true})}
  static override flags = {
    partitions: Flags.integer({char: 'p', summary: 'The new number of partitions (more than it has).', min: 1}),
    retention: retentionFlag({summary: 'Delete records older than this (e.g. 7d, 12h); forever takes the limit off.'}),
    'retention-bytes': retentionBytesFlag({summary: 'Keep at most this much per partition (e.g. 1GiB), oldest deleted first; forever takes the limit off.'}),
    config: Flags.string({char: 'c', summary: 'A topic config name=value (e.g. cleanup.policy=compact on Kafka); repeat for more.', multiple: true}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TopicAlter)
    validateTopicName(args.name)
    const configs: Record<string, string> = {}
    for (const entry of flags.config ?? []) {
      const at = entry.indexOf('=')
      if (at <= 0) throw new UsageError(`--config '${entry}' is not name=value`, 'e.g. --config cleanup.policy=compact')
      configs[entry.slice(0, at)] = entry.slice(at + 1)
    }
    if (flags.partitions === undefined && flags.retention === undefined && flags['retention-bytes'] === undefined && Object.keys(configs).length === 0)
      throw new UsageError('nothing to change', 'give -p N, --retention, --retention-bytes or -c name=value')
    const backend = await this.openBackend(flags, 'write')
    const info = await backend.alterTopic(args.name, {
      partitions: flags.partitions,
      retentionMs: flags.retention,
      retentionBytes: flags['retention-bytes'],
      configs,
    })
    const topic = detailTopic(info)
    if (this.jsonEnabled()) return topic
    this.streams.err.write(`spool: altered topic '${info.name}': ${info.partitions} partition${info.partitions === 1 ? '' : 's'}, retention ${describeRetention(topic)}\n`)
  }
}
