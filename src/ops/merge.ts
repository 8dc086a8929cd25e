import type {Assignment, Backend} from '../core/backend.js'
import type {KeySelection} from '../core/key-selection.js'
import {type RecordBatch, recordAt} from '../core/record.js'
import {OutputClosedError} from '../io/output.js'
import {passes, type StreamOptions, type StreamResult} from './consume.js'
import {DecodingOutputSink, MergedPositions, OutputSink, type RecordSink} from './sinks.js'

export interface MergeOptions {
  /** --key: read only the records with one of these keys (through the local store's key index). */
  keys?: KeySelection
  /** Records looked at by a read by key, for progress. */
  onScanned?: (records: number) => void
  /** Read the partitions' new records as they come (assignments without `until` never end). */
  follow?: boolean
  /**
   * While following: an input with nothing buffered holds the others back at most this long (ms) after
   * it ran dry, then the merge goes on without it until it delivers again. Undefined: every input is
   * waited for, which is exact but only right when every input ends (bounded reads).
   */
  maxWaitMs?: number
  /** Milliseconds, for the idle bookkeeping. */
  now?: () => number
}

interface MergeSource {
  iterator: AsyncIterator<RecordBatch>
  batch: RecordBatch | null
  position: number
  done: boolean
  /** The read of its next batch, while one is in flight. */
  loading: Promise<void> | undefined
  /** A failed read, rethrown by the merge (a read left in flight must not become an unhandled rejection). */
  error: unknown
  /** When its buffered records ran out; undefined while it has some. */
  drySince: number | undefined
}

/**
 * Records of several partitions (of one or several topics) in timestamp order, ties broken by the order
 * of the assignments, then offset; each partition's own order is kept. It holds one batch per partition.
 * `next()` is synchronous while the current batches last, so a reader awaits only when a partition needs
 * its next batch, not once per record. Used by replay and by consume --merge.
 */
export class TimestampMerge {
  private readonly sources: MergeSource[]
  private readonly stop = new AbortController()
  private readonly maxWaitMs: number | undefined
  private readonly now: () => number
  /** The batch and index `next()` chose, and the place in `assignments` of the partition it came from. */
  batch!: RecordBatch
  index = 0
  /** With nextRun(): the end (exclusive) of the run taken from `batch`. */
  runEnd = 0
  slot = 0

  constructor(backend: Backend, assignments: Assignment[], signal: AbortSignal, options: MergeOptions = {}) {
    this.maxWaitMs = options.maxWaitMs
    this.now = options.now ?? (() => performance.now())
    const readSignal = AbortSignal.any([signal, this.stop.signal])
    const started = this.now()
    this.sources = assignments.map((assignment) => ({
      iterator: backend.read([assignment], {signal: readSignal, follow: options.follow, keys: options.keys, onScanned: options.onScanned})[Symbol.asyncIterator](),
      batch: null,
      position: 0,
      done: false,
      loading: undefined,
      error: undefined,
      drySince: started,
    }))
  }

  private load(source: MergeSource): Promise<void> {
    source.loading ??= source.iterator.next().then(
      (next) => {
        source.loading = undefined
        if (next.done) source.done = true
        else {
          source.batch = next.value
          source.position = 0
          if (next.value.count > 0) source.drySince = undefined
        }
      },
      (error: unknown) => {
        source.loading = undefined
        source.error = error
        source.done = true
      },
    )
    return source.loading
  }

  private empty(source: MergeSource): boolean {
    return !source.done && (source.batch === null || source.position >= source.batch.count)
  }

  private idle(source: MergeSource, now: number): boolean {
    return this.maxWaitMs !== undefined && source.drySince !== undefined && now - source.drySince >= this.maxWaitMs
  }

  /**
   * Loads the next batch of the partitions that have run out. Without maxWaitMs it waits for all of
   * them; with it, until one delivers or the first of them has been dry for maxWaitMs.
   */
  async fill(): Promise<void> {
    const loads: Promise<void>[] = []
    let deadline = Number.POSITIVE_INFINITY
    const now = this.now()
    for (const source of this.sources) {
      if (!this.empty(source)) continue
      loads.push(this.load(source))
      if (this.maxWaitMs !== undefined && !this.idle(source, now)) deadline = Math.min(deadline, source.drySince! + this.maxWaitMs)
    }
    if (this.maxWaitMs === undefined) await Promise.all(loads)
    else if (loads.length > 0) {
      let timer: NodeJS.Timeout | undefined
      const waits: Promise<void>[] = [...loads]
      if (Number.isFinite(deadline)) waits.push(new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - now)))))
      await Promise.race(waits)
      clearTimeout(timer)
    }
    for (const source of this.sources) if (source.error !== undefined) throw source.error
  }

  /**
   * Picks the earliest record into batch/index: true; false when every input has ended; undefined when
   * fill() is due first (an input that may still hold an earlier record has nothing buffered).
   */
  next(): boolean | undefined {
    return this.pick(1)
  }

  /**
   * Like next(), and also takes the records after it in the same batch that would come next anyway
   * (before every other input's head), up to `max` in all: batch[index, runEnd). One write per run
   * instead of per record, when partitions take turns in bursts.
   */
  nextRun(max: number): boolean | undefined {
    return this.pick(max)
  }

  private pick(max: number): boolean | undefined {
    let best = -1
    let bestTime = Number.POSITIVE_INFINITY
    let second = -1
    let secondTime = Number.POSITIVE_INFINITY
    let waiting = false
    const sources = this.sources
    for (let k = 0; k < sources.length; k++) {
      const source = sources[k]!
      if (source.done) continue
      if (source.batch === null || source.position >= source.batch.count) {
        // An idle input does not hold the others back; one that has just run dry does.
        if (this.maxWaitMs !== undefined && this.idle(source, this.now())) {
          waiting = true
          continue
        }
        return undefined
      }
      const time = source.batch.timestampAt(source.position)
      if (time < bestTime) {
        second = best
        secondTime = bestTime
        best = k
        bestTime = time
      } else if (time < secondTime) {
        second = k
        secondTime = time
      }
    }
    if (best < 0) return waiting ? undefined : false
    const source = sources[best]!
    const batch = source.batch!
    const start = source.position
    let end = start + 1
    // A tie with the runner-up goes to whichever input comes first, as next() would decide it.
    const limit = Math.min(batch.count, start + max)
    while (end < limit) {
      const time = batch.timestampAt(end)
      if (time < secondTime || (time === secondTime && best < second)) end++
      else break
    }
    this.batch = batch
    this.index = start
    this.runEnd = end
    this.slot = best
    source.position = end
    if (end >= batch.count) source.drySince = this.now()
    return true
  }

  async close(): Promise<void> {
    this.stop.abort()
    for (const source of this.sources) {
      await source.loading
      await source.iterator.return?.()
    }
  }
}

/** How long a quiet input holds a following merge back unless --max-wait says otherwise. */
export const DEFAULT_MAX_WAIT_MS = 500

/** Records wait in the sink until this many pile up or the merge has to wait for an input. */
const FLUSH_EVERY = 8192

/**
 * consume --merge: one timeline of every partition of every topic, by timestamp, ties by topic name
 * (byte order), partition, then offset. Following, a record is written once every input holds a later
 * one or has been dry for `maxWaitMs`, so an idle input delays the others by at most that much.
 */
export async function mergeRecords(
  backend: Backend,
  assignments: Assignment[],
  options: StreamOptions & {maxWaitMs: number},
): Promise<StreamResult> {
  const {out, limit, signal} = options
  let written = 0
  if (limit !== undefined && limit <= 0) return {written, outputClosed: false}
  const ordered = [...assignments].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  const sink: RecordSink = options.decoder ? new DecodingOutputSink(options.writer, out, options.decoder) : new OutputSink(options.writer, out)
  const merge = new TimestampMerge(backend, ordered, signal, {follow: options.follow, maxWaitMs: options.follow ? options.maxWaitMs : undefined, keys: options.keys, onScanned: options.onScanned})
  const positions = new MergedPositions(ordered, sink, backend, options)
  // --filter sees decoded values, as tail's window does.
  const keep = options.filter && passes(options.filter, options.decoder)
  try {
    for (;;) {
      const more = merge.nextRun(limit === undefined ? FLUSH_EVERY : Math.min(FLUSH_EVERY, limit - written))
      if (more === undefined) {
        // What is ready goes out before the wait, so a follower sees it now, not when an idle input wakes.
        if (sink.pending > 0) await positions.flush()
        await merge.fill()
        if (signal.aborted) break
        continue
      }
      if (!more || signal.aborted) break
      const {batch, index, runEnd} = merge
      if (keep) {
        for (let i = index; i < runEnd && (limit === undefined || written < limit); i++) {
          if (await positions.kept(keep, recordAt(batch, i))) {
            sink.add(batch, i)
            written++
          }
          positions.passed(merge.slot, batch.offsetAt(i) + 1)
        }
      } else {
        if (sink.addRange) sink.addRange(batch, index, runEnd)
        else for (let i = index; i < runEnd; i++) sink.add(batch, i)
        positions.passed(merge.slot, batch.offsetAt(runEnd - 1) + 1)
        written += runEnd - index
      }
      if (limit !== undefined && written >= limit) break
      if (sink.pending >= FLUSH_EVERY) await positions.flush()
    }
    await positions.flush()
    await out.end()
  } catch (error) {
    if (error instanceof OutputClosedError) return {written, outputClosed: true}
    throw error
  } finally {
    await merge.close()
  }
  return {written, outputClosed: false}
}
