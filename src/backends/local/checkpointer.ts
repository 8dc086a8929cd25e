import {createRequire} from 'node:module'
import type {Worker} from 'node:worker_threads'

/**
 * A writer hands its checkpoints to a worker thread once it has appended this much in one process: the
 * first transaction of a large produce (4 batches of 1 MiB), so that the thread is running well before
 * the log has grown.
 */
export const CHECKPOINT_WORKER_AFTER_BYTES = 4 << 20
/**
 * A checkpoint is asked for after each this much appended. Each one syncs the log and the database
 * (fdatasync below), and on ext4 every sync commits the journal, which a writer extending its log can wait
 * for: 8 MB made a 1 GB produce slower (21.8-22.3 s against 17.1-21.2 s at 16 MB, on a busy machine).
 */
const STEP_BYTES = 16 << 20
/**
 * The writer waits for a checkpoint after this much: a checkpoint that runs beside the writer never finds
 * the log fully copied when the writer starts its next transaction, and only then does SQLite write the
 * log from its start again, so without a pause the -wal file would grow as large as the produce. Each
 * pause costs the writer a whole checkpoint (0.1-0.3 s on a busy machine): 32 MB kept the log smaller
 * and its deletion at close quicker, but paused a 300 MB produce for 1 s where 128 MB paused it for 0.5 s.
 */
const WAL_BOUND_BYTES = 128 << 20

// The thread's code, kept as text: the bundle (scripts/bundle.js) then needs no second entry point.
const WORKER_SOURCE = `
const {parentPort, workerData} = require('node:worker_threads')
const {fdatasyncSync} = require('node:fs')
const Database = require(workerData.driver)
const db = new Database(workerData.path, {fileMustExist: true, timeout: workerData.busyTimeoutMs})
// A checkpoint syncs the log and the database as its connection's synchronous setting says.
db.pragma('synchronous = ' + workerData.synchronous)
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close()
    parentPort.postMessage({closed: true})
    return
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
    // SQLite syncs the database only after a checkpoint that copied the whole log, which one running
    // beside the writer never does: the pages it copied stayed in the page cache, and the writer's last
    // checkpoint at close waited for all of them (0.2 s for 1M records). Writing them out here, after each
    // checkpoint, moves that wait onto this thread. It changes nothing SQLite relies on: SQLite still
    // syncs before it writes the log from its start again.
    fdatasyncSync(workerData.databaseFd)
    parentPort.postMessage({done: true})
  } catch (error) {
    parentPort.postMessage({error: String(error && error.message)})
  }
})
`

/**
 * Checkpoints of a writer's store run on a second core. In WAL mode every commit appends to the -wal file,
 * and a checkpoint copies it into the database and syncs both: SQLite runs it inside the commit that
 * crosses wal_autocheckpoint, so a large produce stopped there to copy and wait for the disk (about half
 * of its time). Here the writer's own connection has wal_autocheckpoint off while the thread runs passive
 * checkpoints (which take no lock the writer needs) every STEP_BYTES, and the writer waits for one only
 * every WAL_BOUND_BYTES. Commits and what a killed process leaves are unchanged: a checkpoint only moves
 * committed pages from the log into the database.
 */
export class Checkpointer {
  private readonly worker: Worker
  private inFlight: Promise<void> | undefined
  private sinceRequest = 0
  private sinceWait = 0
  /** Set when the thread failed: the writer goes back to checkpointing in its commits. */
  failed = false

  /**
   * `databaseFd` is a descriptor of the store file, open for writing, that the thread syncs after each
   * checkpoint. The store opens and closes it, never this class: closing any descriptor of a file drops
   * every POSIX lock the process holds on it, SQLite's included, so it is closed only once the store's
   * connection is.
   */
  constructor(path: string, synchronous: number, busyTimeoutMs: number, databaseFd: number) {
    const require = createRequire(import.meta.url)
    const driver = require.resolve('better-sqlite3')
    // Required here, not imported: only a writer that has appended CHECKPOINT_WORKER_AFTER_BYTES starts a
    // thread, and loading node:worker_threads cost every other write (a one-record produce) about 4 ms.
    const {Worker} = require('node:worker_threads') as typeof import('node:worker_threads')
    // The thread runs a few statements and no JavaScript to speak of: a small heap keeps its share of the
    // produce's memory small.
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {driver, path, synchronous, busyTimeoutMs, databaseFd},
      resourceLimits: {maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2},
    })
    // Idle, the thread does not keep the process alive (one that ends without closing the store leaves a
    // complete log); while a checkpoint runs it does, since the writer may be waiting for it.
    this.worker.unref()
    this.worker.on('error', () => (this.failed = true))
    this.worker.on('exit', () => (this.failed = true))
  }

  /** Bytes were committed; asks for a checkpoint when due. Resolves at once unless the writer must wait. */
  async appended(bytes: number): Promise<void> {
    if (this.failed) return
    this.sinceRequest += bytes
    this.sinceWait += bytes
    if (this.sinceWait >= WAL_BOUND_BYTES) {
      this.sinceWait = 0
      // Wait for the one running, then for one that copies everything (nothing is written meanwhile).
      await this.inFlight
      // A thread that failed or exited meanwhile would never answer.
      if (this.failed) return
      this.request()
      await this.inFlight
      return
    }
    if (this.sinceRequest >= STEP_BYTES && !this.inFlight) this.request()
  }

  private request(): void {
    this.sinceRequest = 0
    this.worker.ref()
    this.inFlight = new Promise<void>((resolve) => {
      const settle = () => {
        this.worker.off('message', onMessage)
        this.worker.off('exit', onExit)
        this.worker.unref()
        this.inFlight = undefined
        resolve()
      }
      const onMessage = (message: {done?: boolean; error?: string}) => {
        if (message.error !== undefined) this.failed = true
        settle()
      }
      const onExit = () => {
        this.failed = true
        settle()
      }
      this.worker.on('message', onMessage)
      this.worker.once('exit', onExit)
      this.worker.postMessage('checkpoint')
    })
  }

  /** Waits for a running checkpoint and closes the thread's connection, so the writer's close is the last. */
  async close(): Promise<void> {
    await this.inFlight
    this.worker.ref()
    if (!this.failed)
      await new Promise<void>((resolve) => {
        this.worker.once('message', () => resolve())
        this.worker.once('exit', () => resolve())
        this.worker.postMessage('close')
      })
    await this.worker.terminate()
  }

}
