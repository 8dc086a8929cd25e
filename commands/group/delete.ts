import {Args} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {yesAccepted} from '../../src/cli/flags.js'
import {UnknownGroupError} from '../../src/core/errors.js'

export default class GroupDelete extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = "Delete a consumer group's committed offsets."
  static override description = 'The next read with this group starts from --from again. Records are not touched.'
  static override examples = ['<%= config.bin %> <%= command.id %> billing', '<%= config.bin %> <%= command.id %> billing --json']
  static override args = {group: Args.string({description: 'Consumer group.', required: true})}
  static override flags = {yes: yesAccepted}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(GroupDelete)
    // Looked up read-only first: deleting a group that is not there must not create a store.
    const reader = await this.openBackend(flags, 'read')
    const offsets = await reader.groupOffsets(args.group)
    if (reader.kind === 'local' && offsets.length === 0) throw new UnknownGroupError(args.group, reader.location)
    const backend = reader.kind === 'local' ? await this.openBackend(flags, 'write') : reader
    await backend.deleteGroup(args.group)
    if (this.jsonEnabled()) return {deleted: args.group, partitions: offsets.length}
    this.streams.err.write(`spool: deleted consumer group '${args.group}'\n`)
  }
}
