import {watch, type FSWatcher} from 'node:fs'
import {basename, dirname} from 'node:path'

/** How long a follower sleeps when no file event arrives: a bound, not the normal path. */
const FALLBACK_POLL_MS = 250
/**
 * A WAL write is seen by inotify a moment before the commit is published in the shared-memory index, so
 * after an event the reader looks again a few times before it goes back to sleep.
 */
export const RECHECK_DELAYS_MS = [0, 2, 10, 40]

/**
 * Wakes a follower when another process writes the store. SQLite has no cross-process notification; a
 * commit in WAL mode always writes the -wal file, so a watch on the store's directory (which also sees the
 * -wal file being created or reset) is the wake-up, with a slow poll as the fallback.
 */
export class StoreChangeWatch {
  private watcher: FSWatcher | undefined
  private waiters: Array<() => void> = []
  private readonly names: Set<string>

  constructor(storePath: string) {
    const base = basename(storePath)
    this.names = new Set([base, `${base}-wal`])
    try {
      this.watcher = watch(dirname(storePath), {persistent: false}, (_event, file) => {
        if (file === null || this.names.has(String(file))) this.wake()
      })
      this.watcher.on('error', () => this.stopWatching())
    } catch {
      this.watcher = undefined
    }
  }

  private stopWatching() {
    this.watcher?.close()
    this.watcher = undefined
  }

  private wake() {
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve()
  }

  /** Resolves on the next change event, after the fallback interval, or when the signal aborts. */
  next(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, FALLBACK_POLL_MS)
      signal.addEventListener('abort', done, {once: true})
      this.waiters.push(done)
    })
  }

  close() {
    this.stopWatching()
    this.wake()
  }
}
