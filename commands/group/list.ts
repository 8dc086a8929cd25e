import {SpoolCommand} from '../../src/cli/base-command.js'
import {renderTable} from '../../src/cli/table.js'
import {summarizeGroups} from '../../src/ops/groups.js'

export default class GroupList extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'List consumer groups with their topics and total lag.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override flags = {
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(GroupList)
    const backend = await this.openBackend(flags, 'read')
    const groups = await summarizeGroups(backend)
    if (this.jsonEnabled()) return groups
    if (groups.length === 0) {
      this.streams.err.write(`spool: no consumer groups in ${backend.location}\n`)
      return
    }
    this.streams.out.write(renderTable(['GROUP', 'TOPICS', 'PARTITIONS', 'LAG'], groups.map((g) => [g.group, g.topics.join(','), g.partitions, g.lag])))
  }
}
