import {Args} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {renderTable} from '../../src/cli/table.js'
import {describeGroup} from '../../src/ops/groups.js'

export default class GroupDescribe extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = "Show a consumer group's committed offset, end offset and lag per partition of its topics ('-' where it has committed nothing: lag counts from the start)."
  static override examples = ['<%= config.bin %> <%= command.id %> billing', '<%= config.bin %> <%= command.id %> billing --json']
  static override args = {group: Args.string({description: 'Consumer group.', required: true})}
  static override flags = {
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(GroupDescribe)
    const backend = await this.openBackend(flags, 'read')
    const rows = await describeGroup(backend, args.group)
    if (this.jsonEnabled()) return rows
    this.streams.out.write(renderTable(['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG'], rows.map((r) => [r.topic, r.partition, r.committed ?? '-', r.end, r.lag])))
  }
}
