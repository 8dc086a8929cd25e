import {watch, type FSWatcher} from 'node:fs'
import {basename, dirname} from 'node:path'

/** How long a follower sleeps when no file event arrives: a bound, not the normal path. */
const FALLBACK_POLL_MS = 250
/**
 * A WAL write is seen by inotify a moment before the commit is published in the shared-memory index
 * (measured: up to ~0.2 ms), so after an event that brought nothing the reader looks again soon, a few
 * times, before it goes back to waiting for events.
 */
export const RECHECK_DELAYS_MS = [1, 2, 5, 10, 20]

/**
 * Wakes a follower when another process writes the store. SQLite has no cross-process notification; a
 * commit in WAL mode always writes the -wal file, so a watch on the store's directory (which also sees the
 * -wal file being created or reset) is the wake-up, with a slow poll as the fallback.
 */
export class StoreChangeWatch {
  private watcher: FSWatcher | undefined
  private waiters: Array<() => void> = []
  /** Counts change events; a reader notes it before a fetch so an event during the fetch is not lost. */
  version = 0
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
    this.version++
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve()
  }

  /**
   * Resolves true on a change event after `since` (at once if one already came), false after
   * `timeoutMs` (the fallback poll by default) or when the signal aborts.
   */
  next(signal: AbortSignal, since: number, timeoutMs = FALLBACK_POLL_MS): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false)
    if (this.version !== since) return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve(this.version !== since)
      }
      const timer = setTimeout(done, timeoutMs)
      signal.addEventListener('abort', done, {once: true})
      this.waiters.push(done)
    })
  }

  close() {
    this.stopWatching()
    this.wake()
  }
}
