import {Args} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {cursorStoreFlags, openCursorStore} from '../../src/cli/cursors.js'
import {yesAccepted} from '../../src/cli/flags.js'
import {UnknownCursorError} from '../../src/core/errors.js'

export default class CursorDelete extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = "Delete a cursor's positions."
  static override description = 'The next read with this cursor starts from --from again. Records are not touched, and nothing changes on the sources.'
  static override examples = ['<%= config.bin %> <%= command.id %> review', '<%= config.bin %> <%= command.id %> review --json']
  static override args = {cursor: Args.string({description: 'Cursor name.', required: true})}
  static override flags = {...cursorStoreFlags, yes: yesAccepted}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(CursorDelete)
    const open = (at: Parameters<typeof this.openBackendAt>[0], access: 'read' | 'write') => this.openBackendAt(at, flags, access)
    // Looked up read-only first: deleting a cursor that is not there must not create a store.
    const reader = await openCursorStore(flags, 'read', open)
    const positions = await reader.cursorPositions(args.cursor)
    if (positions.length === 0) throw new UnknownCursorError(args.cursor, reader.location)
    const store = await openCursorStore(flags, 'write', open)
    await store.deleteCursor(args.cursor)
    if (this.jsonEnabled()) return {deleted: args.cursor, partitions: positions.length}
    this.streams.err.write(`spool: deleted cursor '${args.cursor}'\n`)
  }
}
