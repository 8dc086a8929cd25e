import {accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readSync, statSync} from 'node:fs'
import {dirname} from 'node:path'
import {pathToFileURL} from 'node:url'
import Database from 'better-sqlite3'
import {SpoolError} from '../../core/errors.js'
import {APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION} from './schema.js'

/** What a command will do with a store: reads never create, migrate, clean up or otherwise write. */
export type StoreAccess = 'read' | 'write'

export interface StoreFileOptions {
  path: string
  access: StoreAccess
  /** synchronous=FULL: a commit survives a power cut, not only a crash of the process. */
  durable?: boolean
  /** How long a writer waits for another writer's transaction before giving up. */
  busyTimeoutMs?: number
}

export interface StoreFile {
  db: Database.Database
  /** The schema version of the file (a store opened for reading is never upgraded). */
  version: number
  /** The file does not exist (or is empty) and was opened for reading: an empty store held in memory. */
  absent: boolean
  /** The file's identity when opened, to notice it being removed or replaced under a writer. */
  identity?: {dev: number; ino: number}
}

const SQLITE_HEADER = 'SQLite format 3\0'

// URI file names (only ever built by readOnlyStore below; store paths are absolute, never "file:...").
// better-sqlite3 reads this when its addon loads, at the first open.
process.env.SQLITE_USE_URI ??= '1'

/**
 * Opens a store file. Only an absent or empty (0-byte) file ever becomes a store, and only when opened
 * for writing: any other file without spool's application_id is refused before anything is written to
 * it. A store opened for reading is opened read-only, so it reads from a read-only file or directory; a
 * store that does not exist reads as an empty one and nothing is created.
 */
export function openStoreFile(options: StoreFileOptions): StoreFile {
  const {path} = options
  const size = fileSize(path)
  if (options.access === 'read' && (size === undefined || size === 0)) return {db: emptyStoreInMemory(), version: SCHEMA_VERSION, absent: true}
  if (size !== undefined && size > 0) checkHeader(path)
  if (options.access === 'write') {
    try {
      mkdirSync(dirname(path), {recursive: true})
    } catch (error) {
      throw storeError(error, path, `cannot create the directory of store ${path}`)
    }
  }
  if (options.access === 'read') {
    try {
      return opened(path, readOnlyStore(path), checkForReading)
    } catch (error) {
      // A WAL store needs its -shm file even to be read. Where there is none and it cannot be made (a
      // read-only directory), no writer can be at work either: nothing can change the file, and SQLite
      // reads it as immutable, without the -shm.
      const doing = `cannot open store ${path}`
      if (!String((error as {code?: string}).code).startsWith('SQLITE_CANTOPEN') || existsSync(`${path}-wal`) || existsSync(`${path}-shm`))
        throw storeError(error, path, doing)
      try {
        return opened(path, readOnlyStore(`${pathToFileURL(path).href}?immutable=1`), checkForReading)
      } catch (again) {
        throw storeError(again, path, doing)
      }
    }
  }
  try {
    return opened(path, new Database(path, {timeout: options.busyTimeoutMs ?? 10_000}), (d) => prepareForWriting(d, path, options))
  } catch (error) {
    // SQLite says only "unable to open database file" when it cannot write the file or its directory.
    if (String((error as {code?: string}).code).startsWith('SQLITE_CANTOPEN') && !writable(path))
      throw storeError(Object.assign(new Error('read-only'), {code: 'SQLITE_READONLY', cause: error}), path, `cannot write to store ${path}`)
    throw storeError(error, path, `cannot open store ${path}`)
  }
}

function writable(path: string): boolean {
  try {
    accessSync(dirname(path), constants.W_OK)
    if (existsSync(path)) accessSync(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}

function readOnlyStore(name: string): Database.Database {
  return new Database(name, {readonly: true, fileMustExist: true})
}

/** Checks (and for writing, prepares) an open store; closes it when it will not do. */
function opened(path: string, db: Database.Database, check: (db: Database.Database, path: string) => number): StoreFile {
  try {
    const version = check(db, path)
    const stat = statSync(path)
    return {db, version, absent: false, identity: {dev: stat.dev, ino: stat.ino}}
  } catch (error) {
    db.close()
    throw error
  }
}

function fileSize(path: string): number | undefined {
  try {
    const stat = statSync(path)
    if (stat.isDirectory()) throw new SpoolError(`${path} is a directory, not a spool store`, {hint: 'point -b file:PATH at a store file'})
    return stat.size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw storeError(error, path, `cannot open store ${path}`)
  }
}

/** Refuses anything that is not an SQLite database before SQLite can touch it. */
function checkHeader(path: string): void {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    throw storeError(error, path, `cannot open store ${path}`)
  }
  try {
    const header = Buffer.alloc(16)
    const read = readSync(fd, header, 0, 16, 0)
    if (read < 16 || header.toString('latin1') !== SQLITE_HEADER)
      throw new SpoolError(`${path} is not a spool store (not an SQLite database); refusing to use it`, {
        hint: 'point -b file:PATH at a new or existing spool store',
      })
  } finally {
    closeSync(fd)
  }
}

interface FileState {
  appId: number
  version: number
  /** 0 for a file SQLite has never written: the only kind spool turns into a store. */
  pages: number
  /** Tables, views, indexes and triggers. */
  objects: number
}

/**
 * Inside a write transaction SQLite counts page 1 of an empty file as there; `pages` then comes from a
 * reading taken before it.
 */
function readState(db: Database.Database, pagesBefore?: number): FileState {
  return {
    appId: db.pragma('application_id', {simple: true}) as number,
    version: db.pragma('user_version', {simple: true}) as number,
    pages: pagesBefore ?? (db.pragma('page_count', {simple: true}) as number),
    objects: (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as {n: number}).n,
  }
}

function refuseForeign(state: FileState, path: string): void {
  if (state.appId === APPLICATION_ID) {
    if (state.version > SCHEMA_VERSION)
      throw new SpoolError(`${path} was written by a newer spool (store version ${state.version}); upgrade spool to use it`)
    return
  }
  if (state.pages > 0 || state.objects > 0 || state.version !== 0)
    throw new SpoolError(`${path} is an SQLite database that spool did not create; refusing to use it`, {
      hint: 'point -b file:PATH at a new file or an existing spool store',
    })
}

function checkForReading(db: Database.Database, path: string): number {
  const state = db.transaction(() => readState(db))()
  refuseForeign(state, path)
  // A file SQLite has not written yet (another process is creating the store) holds no topics yet.
  return state.appId === APPLICATION_ID ? state.version : SCHEMA_VERSION
}

/**
 * Creates or upgrades the store. Several processes may open the same new store at the same moment, so
 * the creation is one immediate transaction that looks at the file again once it holds the write lock:
 * the second process finds the first one's store and uses it. SQLite answers some steps here (switching
 * to WAL, a write racing the switch) with SQLITE_BUSY at once instead of waiting, so each attempt is
 * retried until the busy timeout.
 */
function prepareForWriting(db: Database.Database, path: string, options: StoreFileOptions): number {
  const deadline = Date.now() + (options.busyTimeoutMs ?? 10_000)
  for (let attempt = 1; ; attempt++) {
    try {
      return prepareOnce(db, path, options)
    } catch (error) {
      const code = (error as {code?: string}).code ?? ''
      if (!code.startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(5 * attempt, 50))
    }
  }
}

function prepareOnce(db: Database.Database, path: string, options: StoreFileOptions): number {
  const seen = db.transaction(() => readState(db))()
  refuseForeign(seen, path)
  // Batches are blobs of up to ~1 MiB: 64 KiB pages store them with a sixteenth of the page overhead
  // (measured 2.6x faster to write than 4 KiB pages). Setting it writes nothing; it takes effect when
  // the creating transaction below writes the first page.
  if (seen.pages === 0) db.pragma('page_size = 65536')
  let version = seen.version
  if (seen.appId !== APPLICATION_ID || seen.version < SCHEMA_VERSION) {
    version = db
      .transaction(() => {
        const now = readState(db, seen.pages)
        refuseForeign(now, path)
        const from = now.appId === APPLICATION_ID ? now.version : 0
        if (from === 0) db.pragma(`application_id = ${APPLICATION_ID}`)
        for (let next = from + 1; next <= SCHEMA_VERSION; next++) db.exec(MIGRATIONS[next]!)
        db.pragma(`user_version = ${SCHEMA_VERSION}`)
        return SCHEMA_VERSION
      })
      .immediate()
  }
  // SQLite sizes its page cache (16 MB by default, given in KiB) in pages of the size the connection
  // opened with: 4 KiB for a new file. Once the creation above has made them 64 KiB the cache could hold
  // 16 times as much, and a produce into a new store grew by every page it wrote (about 250 MiB at 10M
  // records). Setting the same size again counts it in the store's own pages.
  if (seen.pages === 0) db.pragma(`cache_size = ${db.pragma('cache_size', {simple: true}) as number}`)
  if ((db.pragma('journal_mode', {simple: true}) as string) !== 'wal') db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${options.durable ? 'FULL' : 'NORMAL'}`)
  return version
}

/** The store a read sees where there is none yet: the schema, in memory, with nothing in it. */
function emptyStoreInMemory(): Database.Database {
  const db = new Database(':memory:')
  for (let next = 1; next <= SCHEMA_VERSION; next++) db.exec(MIGRATIONS[next]!)
  return db
}

/**
 * A store failure in spool's words: what happened and what to do. SQLite's own message stays in the
 * cause (--debug shows it).
 */
export function storeError(error: unknown, path: string, doing: string): unknown {
  if (error instanceof SpoolError) return error
  const code = String((error as {code?: string}).code ?? '')
  const cause = {cause: error}
  if (code.startsWith('SQLITE_BUSY')) return new SpoolError(`store ${path} is busy: another process held its write lock for too long`, {...cause, hint: 'try again once the other writer has finished'})
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'SQLITE_IOERR_WRITE' && /full/i.test(String((error as Error).message)))
    return new SpoolError(`${doing}: the disk is full`, {...cause, hint: 'free some space (spool topic delete, or retention: spool topic create --retention) and try again'})
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM')
    return new SpoolError(`${doing}: the store (or its directory) is read-only`, {...cause, hint: 'writing needs write access to the store file and its directory; reading works without'})
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
    return new SpoolError(`store ${path} is damaged (SQLite: ${(error as Error).message})`, {...cause, hint: `see what is damaged with: spool check -b file:${path}`})
  if (code.startsWith('SQLITE_CANTOPEN')) return new SpoolError(`${doing}: SQLite cannot open the file (${(error as Error).message})`, {...cause, hint: 'check that the file and its directory exist and are accessible'})
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return new SpoolError(`${doing}: the disk reported an I/O error`, cause)
  if (code.startsWith('E') && !code.startsWith('ERR_')) return new SpoolError(`${doing}: ${(error as Error).message}`, cause)
  return error
}
