import type {Assignment, Backend} from '../core/backend.js'
import type {KeySelection} from '../core/key-selection.js'
import {type FeedRecord, recordAt} from '../core/record.js'
import {OutputClosedError} from '../io/output.js'
import type {ReadCursor} from './cursors.js'
import {TimestampMerge} from './merge.js'
import {MergedPositions, type RecordSink} from './sinks.js'

/** Time as replay sees it, so tests can run hours of pacing in no time. Milliseconds. */
export interface Clock {
  now(): number
  /** Resolves at `time` (or at once if it has passed), or early when the signal aborts. */
  sleepUntil(time: number, signal: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleepUntil(time, signal) {
    const wait = time - performance.now()
    if (wait <= 0 || signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, wait)
      signal.addEventListener('abort', done, {once: true})
    })
  },
}

export type Pacing =
  /** Original gaps divided by `speed` (Infinity: as fast as possible), each capped at `maxGapMs`. */
  | {kind: 'speed'; speed: number; maxGapMs?: number}
  /** A fixed number of records per second, whatever the timestamps say. */
  | {kind: 'rate'; perSecond: number}

/**
 * When each record is due, in ms after the first one, from the records' timestamps in replay order.
 * Due times accumulate from the first record rather than from the previous emission, so a late
 * wake-up never adds up into drift: a 60 s capture replays in 60 s.
 */
export class Pacer {
  private previous: number | undefined
  private due = 0
  private index = 0

  constructor(private readonly pacing: Pacing) {}

  next(timestamp: number): number {
    const pacing = this.pacing
    if (pacing.kind === 'rate') return (this.index++ * 1000) / pacing.perSecond
    if (this.previous !== undefined && Number.isFinite(pacing.speed)) {
      let gap = Math.max(0, timestamp - this.previous) / pacing.speed
      if (pacing.maxGapMs !== undefined) gap = Math.min(gap, pacing.maxGapMs)
      this.due += gap
    }
    // The latest time seen, not the last: a record stamped earlier than the one before it (a clock
    // stepped back, partitions merged) goes at once, and the next is paced from the latest, where the
    // step back used to be waited out again.
    this.previous = this.previous === undefined ? timestamp : Math.max(this.previous, timestamp)
    this.index++
    return this.due
  }

  get unpaced(): boolean {
    return this.pacing.kind === 'speed' && !Number.isFinite(this.pacing.speed)
  }
}

export interface ReplayOptions {
  pacing: Pacing
  sink: RecordSink
  signal: AbortSignal
  clock?: Clock
  /** Commit progress to this consumer group of the source as records are written. */
  group?: string
  /** Or store it in this cursor. */
  cursor?: ReadCursor
  /** Called with each record as it is written, for progress displays. */
  onRecord?: (written: number) => void
  /**
   * --filter: records that do not pass are skipped before pacing, so they take no slot of a --rate and
   * the ones kept still leave at their original times.
   */
  filter?: (record: FeedRecord) => boolean | Promise<boolean>
  /** --key: replay only the records with one of these keys. */
  keys?: KeySelection
}

export interface ReplayResult {
  written: number
  outputClosed: boolean
  /** Wall time from the first record to the last, ms. */
  elapsedMs: number
  /** Where the last record was due, ms after the first: what a perfect replay would take. */
  scheduledMs: number
}

/** Records wait in the sink until the replay sleeps (they are due) or this many pile up. */
const FLUSH_EVERY = 8192

export async function replay(backend: Backend, assignments: Assignment[], options: ReplayOptions): Promise<ReplayResult> {
  const {sink, signal} = options
  const clock = options.clock ?? systemClock
  const pacer = new Pacer(options.pacing)
  const merge = new TimestampMerge(backend, assignments, signal, {keys: options.keys})
  const positions = new MergedPositions(assignments, sink, backend, options)
  let written = 0
  let start: number | undefined
  let lastDue = 0
  try {
    for (;;) {
      let more = merge.next()
      if (more === undefined) {
        await merge.fill()
        more = merge.next()
      }
      if (!more || signal.aborted) break
      const {batch, index} = merge
      if (options.filter) {
        if (!(await positions.kept(options.filter, recordAt(batch, index)))) {
          positions.passed(merge.slot, batch.offsetAt(index) + 1)
          continue
        }
      }
      const due = pacer.next(batch.timestampAt(index))
      start ??= clock.now()
      if (!pacer.unpaced && start + due > clock.now()) {
        // Everything due before now goes out before the wait, so each record leaves at its own time.
        if (sink.pending > 0) await positions.flush()
        // A reader that went away (| head -1) ends the wait: the next write says so, not one due hours later.
        await clock.sleepUntil(start + due, sink.broken ? AbortSignal.any([signal, sink.broken]) : signal)
        if (signal.aborted) break
        if (sink.broken?.aborted) await positions.flush()
      }
      sink.add(batch, index)
      lastDue = due
      positions.passed(merge.slot, batch.offsetAt(index) + 1)
      written++
      options.onRecord?.(written)
      if (sink.pending >= FLUSH_EVERY) await positions.flush()
    }
    await positions.flush()
  } catch (error) {
    if (error instanceof OutputClosedError) return {written, outputClosed: true, elapsedMs: 0, scheduledMs: lastDue}
    throw error
  } finally {
    await merge.close()
  }
  return {written, outputClosed: false, elapsedMs: start === undefined ? 0 : clock.now() - start, scheduledMs: lastDue}
}
