import {isUnreachable} from './errors.js'

/** What a waiting command says when the state changes: once when Kafka goes away, once when it is back. */
export interface OutageNotes {
  down(since: Date): void | Promise<void>
  up(since: Date): void
}

/** The first pause after a failed attempt, doubled after each further one up to the cap. */
const FIRST_PAUSE_MS = 250
const LONGEST_PAUSE_MS = 5000

/**
 * Waits out Kafka outages for a following command (-f): `run` retries a call that failed with something
 * waiting fixes (UnreachableError), with capped backoff, until it succeeds, the signal aborts (the last
 * failure is thrown; callers that were stopped on purpose check their signal), or it fails otherwise
 * (thrown at once). One Outage is shared by everything a command sends, so an outage that the reader and
 * the writer both meet is one outage with one line when it starts and one when it ends.
 */
export class Outage {
  private since?: Date

  constructor(
    private readonly signal: AbortSignal,
    private readonly notes: OutageNotes,
  ) {}

  get waiting(): boolean {
    return this.since !== undefined
  }

  async run<T>(attempt: () => Promise<T>): Promise<T> {
    let pause = FIRST_PAUSE_MS
    for (;;) {
      try {
        const result = await attempt()
        if (this.since) {
          const since = this.since
          this.since = undefined
          this.notes.up(since)
        }
        return result
      } catch (error) {
        if (!isUnreachable(error) || this.signal.aborted) throw error
        if (!this.since) {
          this.since = new Date()
          await this.notes.down(this.since)
        }
        await pauseFor(pause, this.signal)
        if (this.signal.aborted) throw error
        pause = Math.min(pause * 2, LONGEST_PAUSE_MS)
      }
    }
  }
}

function pauseFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, {once: true})
  })
}

/** The line's clock time, as a log shows it: 12:03:01 in the local zone. */
export function clockTime(date: Date): string {
  return date.toTimeString().slice(0, 8)
}
