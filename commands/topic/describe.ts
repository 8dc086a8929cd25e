import {Args} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {paint} from '../../src/cli/colour.js'
import {renderTable} from '../../src/cli/table.js'
import {validateTopicName} from '../../src/core/topic-name.js'
import {formatBytes} from '../../src/core/units.js'
import {describeRetention, detailTopic} from '../../src/ops/topics.js'

export default class TopicDescribe extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Show a topic\'s settings and, per partition, its offsets, size and time span.'
  static override examples = ['<%= config.bin %> <%= command.id %> clicks', '<%= config.bin %> <%= command.id %> clicks --json']
  static override args = {name: Args.string({description: 'Topic name.', required: true})}
  static override flags = {
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TopicDescribe)
    validateTopicName(args.name)
    const backend = await this.openBackend(flags, 'read')
    const topic = detailTopic(await backend.describeTopic(args.name))
    if (this.jsonEnabled()) return topic
    // Kafka's offsets are not counts (compaction and transaction markers leave gaps): say which it is.
    const kafka = backend.kind === 'kafka'
    this.streams.out.write(
      [
        ['Topic:', paint.bold(topic.name)],
        ['Partitions:', String(topic.partitions)],
        kafka ? ['Offsets:', `${topic.records} (not a count of records: spool count ${topic.name})`] : ['Records:', String(topic.records)],
        ['Size:', formatBytes(topic.bytes)],
        ['Retention:', describeRetention(topic)],
      ]
        .map(([label, value]) => `${paint.dim(label!.padEnd(12))}${value}\n`)
        .join('') + '\n',
    )
    this.streams.out.write(
      renderTable(
        ['PARTITION', 'START', 'END', kafka ? 'OFFSETS' : 'RECORDS', 'SIZE', 'FIRST', 'LAST'],
        topic.partition_info.map((p) => [p.partition, p.start_offset, p.end_offset, p.records, formatBytes(p.bytes), p.first_timestamp ?? '-', p.last_timestamp ?? '-']),
      ),
    )
  }
}
