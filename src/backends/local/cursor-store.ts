import type Database from 'better-sqlite3'
import type {CursorCommit, CursorPosition, CursorStore} from '../../core/backend.js'
import {CURSOR_VERSION} from './schema.js'

interface PositionRow {
  cursor_name: string
  source: string
  topic: string
  partition: number
  position: number
  topic_id: string | null
  updated_at: number
}

/**
 * The cursor_positions table (store version CURSOR_VERSION). A store of an older version opened for
 * reading has no such table: it holds no cursors. Writes run inside the caller's transaction (`write`),
 * so a local pipe stores a batch and the cursor's position in one commit.
 */
export class LocalCursorStore implements CursorStore {
  private statements: ReturnType<typeof prepare> | undefined

  constructor(
    private readonly db: Database.Database,
    readonly location: string,
    private readonly version: number,
    /** Runs a write in one immediate transaction, with the store's errors in spool's words. */
    private readonly writing: <T>(doing: string, write: () => T) => T,
    /** Runs a read with the store's errors in spool's words. */
    private readonly reading: <T>(doing: string, read: () => T) => T,
  ) {}

  private get s() {
    return (this.statements ??= prepare(this.db))
  }

  async cursorPositions(cursor?: string): Promise<CursorPosition[]> {
    if (this.version < CURSOR_VERSION) return []
    return this.reading(`cannot read the cursors of ${this.location}`, () =>
      (cursor === undefined ? this.s.all.all() : this.s.byName.all(cursor)).map((row) => ({
        cursor: row.cursor_name,
        source: row.source,
        topic: row.topic,
        partition: row.partition,
        offset: row.position,
        topicId: row.topic_id ?? undefined,
        updatedAt: row.updated_at,
      })),
    )
  }

  async commitCursor(commit: CursorCommit): Promise<void> {
    if (commit.offsets.length === 0) return
    this.writing(`cannot store the position of cursor '${commit.cursor}' in ${this.location}`, () => this.write(commit))
  }

  /** Stores the positions; the caller holds the write transaction. */
  write(commit: CursorCommit): void {
    const now = Date.now()
    for (const o of commit.offsets) this.s.upsert.run(commit.cursor, commit.source, o.topic, o.partition, o.offset, o.topicId ?? null, now)
  }

  async deleteCursor(cursor: string): Promise<number> {
    if (this.version < CURSOR_VERSION) return 0
    return this.writing(`cannot delete cursor '${cursor}' from ${this.location}`, () => this.s.remove.run(cursor).changes)
  }
}

function prepare(db: Database.Database) {
  const columns = 'cursor_name, source, topic, partition, position, topic_id, updated_at'
  return {
    all: db.prepare<[], PositionRow>(`SELECT ${columns} FROM cursor_positions ORDER BY cursor_name, source, topic, partition`),
    byName: db.prepare<[string], PositionRow>(`SELECT ${columns} FROM cursor_positions WHERE cursor_name = ? ORDER BY source, topic, partition`),
    upsert: db.prepare(
      `INSERT INTO cursor_positions (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (cursor_name, source, topic, partition) DO UPDATE SET position = excluded.position, topic_id = excluded.topic_id, updated_at = excluded.updated_at`,
    ),
    remove: db.prepare<[string]>('DELETE FROM cursor_positions WHERE cursor_name = ?'),
  }
}
