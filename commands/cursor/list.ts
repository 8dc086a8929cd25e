import {SpoolCommand} from '../../src/cli/base-command.js'
import {cursorStoreFlags, openCursorStore} from '../../src/cli/cursors.js'
import {renderTable} from '../../src/cli/table.js'
import {summarizeCursors} from '../../src/ops/cursors.js'

export default class CursorList extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'List the cursors kept in a local store, with the sources and topics they read.'
  static override description =
    'Cursors (--cursor NAME on consume, tail, replay and pipe) keep their positions in a local store: --store, else -b when it names a local store, else $SPOOL_HOME/spool.db. Listing reads only that store; see the lag with: spool cursor describe NAME.'

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json', '<%= config.bin %> <%= command.id %> --store ./cursors.db']
  static override flags = {...cursorStoreFlags}

  async run(): Promise<unknown> {
    const {flags} = await this.parse(CursorList)
    const store = await openCursorStore(flags, 'read', (at, access) => this.openBackendAt(at, flags, access))
    const cursors = await summarizeCursors(store)
    if (this.jsonEnabled()) return cursors
    if (cursors.length === 0) {
      this.streams.err.write(`spool: no cursors in ${store.location}\n`)
      return
    }
    this.streams.out.write(
      renderTable(['CURSOR', 'SOURCES', 'TOPICS', 'PARTITIONS', 'UPDATED'], cursors.map((c) => [c.cursor, c.sources.join(','), c.topics.join(','), c.partitions, c.updated])),
    )
  }
}
