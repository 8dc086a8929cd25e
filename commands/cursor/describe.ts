import {Args} from '@oclif/core'
import {SpoolCommand, resolveBrokerAddress} from '../../src/cli/base-command.js'
import {cursorStoreFlags, openCursorStore, sourceOpener} from '../../src/cli/cursors.js'
import {renderTable} from '../../src/cli/table.js'
import {describeCursor} from '../../src/ops/cursors.js'

export default class CursorDescribe extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary =
    "Show a cursor's position, the end offset and the lag per partition of the topics it reads ('-' where it has no position: it reads that partition from its start)."

  static override description =
    'The positions come from the local store that keeps the cursor; the ends from each source, reached with -b or a context when they name the same cluster (for its credentials).'

  static override examples = [
    '<%= config.bin %> <%= command.id %> review',
    '<%= config.bin %> <%= command.id %> review --json',
    '<%= config.bin %> <%= command.id %> review --context prod',
  ]

  static override args = {cursor: Args.string({description: 'Cursor name.', required: true})}
  static override flags = {...cursorStoreFlags}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(CursorDescribe)
    const store = await openCursorStore(flags, 'read', (at, access) => this.openBackendAt(at, flags, access))
    const {rows, notes} = await describeCursor(store, args.cursor, sourceOpener(resolveBrokerAddress(flags), (address) => this.openBackendAt(address, flags, 'read')))
    for (const note of notes) this.streams.err.write(`spool: ${note}\n`)
    if (this.jsonEnabled()) return rows
    const dash = (n: number | null) => n ?? '-'
    this.streams.out.write(
      renderTable(['SOURCE', 'TOPIC', 'PARTITION', 'POSITION', 'END', 'LAG'], rows.map((r) => [r.source, r.topic, r.partition, dash(r.position), dash(r.end), dash(r.lag)])),
    )
  }
}
