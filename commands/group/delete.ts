import {Args} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'

export default class GroupDelete extends SpoolCommand {
  static override summary = "Delete a consumer group's committed offsets."
  static override description = 'The next read with this group starts from --from again. Records are not touched.'
  static override examples = ['<%= config.bin %> <%= command.id %> billing']
  static override args = {group: Args.string({description: 'Consumer group.', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(GroupDelete)
    const backend = await this.openBackend(flags, 'write')
    await backend.deleteGroup(args.group)
    process.stderr.write(`spool: deleted consumer group '${args.group}'\n`)
  }
}
