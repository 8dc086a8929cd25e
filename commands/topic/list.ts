import {SpoolCommand} from '../../src/cli/base-command.js'
import {renderTable} from '../../src/cli/table.js'
import {formatBytes} from '../../src/core/units.js'
import {describeRetention, summarizeTopic} from '../../src/ops/topics.js'

export default class TopicList extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'List topics with their partitions, records and size.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json | jq -r ".[].name"']
  static override flags = {
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(TopicList)
    const backend = await this.openBackend(flags, 'read')
    const topics = (await backend.listTopics()).map(summarizeTopic)
    if (this.jsonEnabled()) return topics
    if (topics.length === 0) {
      this.streams.err.write(`spool: no topics in ${backend.location}\n`)
      return
    }
    this.streams.out.write(
      renderTable(
        // Kafka's offsets are not counts (compaction and transaction markers leave gaps).
        ['TOPIC', 'PARTITIONS', backend.kind === 'kafka' ? 'OFFSETS' : 'RECORDS', 'SIZE', 'RETENTION'],
        topics.map((t) => [t.name, t.partitions, t.records, formatBytes(t.bytes), describeRetention(t)]),
      ),
    )
  }
}
