import type {Assignment, Backend, ReadOptions} from '../core/backend.js'
import type {KeySelection} from '../core/key-selection.js'
import type {Outage} from '../core/outage.js'
import {ArrayRecordBatch, type RecordBatch, firstStampedFrom, recordAt} from '../core/record.js'
import type {ReadCursor} from './cursors.js'
import {type RecordSink, positionCommit, readToEnd} from './sinks.js'
import type {Transform} from './transform.js'

export interface PipeOptions {
  sink: RecordSink
  signal: AbortSignal
  follow: boolean
  /** The source's consumer group: where a rerun continues. */
  group?: string
  /** The cursor that keeps the copy's position instead of a group. */
  cursor?: ReadCursor
  transform?: Transform
  onBatch?: (read: number, written: number) => void
  /** --key: copy only the records with one of these keys. */
  keys?: KeySelection
  /** Records looked at by a read by key, for progress. */
  onScanned?: (records: number) => void
  /** Waits out outages of a Kafka source (the sink waits out its own). */
  outage?: Outage
  /** Following a whole topic: copy the partitions added to it too (ReadOptions.addedPartitions). */
  addedPartitions?: ReadOptions['addedPartitions']
  /** A following copy's end in time (followDeadline): it ends then, or at a record stamped at or after it. */
  stopAt?: number
}

export interface PipeResult {
  read: number
  written: number
}

/** Records handed to a transform and not yet answered, at most: a bound on memory, not on speed. */
const RECORDS_IN_FLIGHT = 50_000
/** After Ctrl-C, how long answers still on their way are waited for before the transform is stopped. */
const DRAIN_AFTER_INTERRUPT_MS = 1000

/**
 * Copies the source assignments into the sink one source batch at a time: read, transform, write, then
 * commit the batch's position to the group (in the same transaction where the sink can), so a copy
 * killed at any moment and run again neither loses nor, between topics of one store, repeats a record.
 *
 * A transform answers in its own time (a program may buffer its output until its input ends), so batches
 * go to it without waiting and are written, in order, as their answers come back. At the end of the
 * source its input is closed and every answer is drained; after Ctrl-C the answers are waited for a
 * moment, and a batch without its answer is neither written nor committed.
 */
export async function pipe(source: Backend, assignments: Assignment[], options: PipeOptions): Promise<PipeResult> {
  const {sink, transform} = options
  let read = 0
  let total = 0
  const commitFor = (batch: RecordBatch, last: number) =>
    positionCommit(source, options, [{topic: batch.topic, partition: batch.partition, offset: last + 1, readFrom: batch.offsetAt(0)}])
  // The deadline ends the reads as a Ctrl-C would, but the copy's end is not an interruption.
  const signal = options.stopAt === undefined ? options.signal : AbortSignal.any([options.signal, AbortSignal.timeout(Math.max(0, options.stopAt - Date.now()))])
  /** How many of a batch's records the copy takes: those stamped before the deadline's time. */
  const within = (batch: RecordBatch) => (options.stopAt === undefined ? batch.count : firstStampedFrom(batch, options.stopAt, batch.count))
  const readOptions = {signal, keys: options.keys, onScanned: options.onScanned, outage: options.outage}
  // A batch a killed run wrote part of (or all of) into Kafka without committing it is finished first,
  // up to the last of its records found there, and committed, before any record of another partition
  // is written: written after it, that record's commit would hide it from the next run's read-back.
  const interrupted = sink.interrupted?.() ?? new Map<number, {from: number; until: number}>()
  const topic = assignments[0]?.topic
  const first: Assignment[] = topic === undefined ? [] : [...interrupted].map(([partition, range]) => ({topic, partition, ...range}))
  const rest = assignments.map((a) => {
    const range = interrupted.get(a.partition)
    return range === undefined || range.until <= a.from ? a : {...a, from: a.until === undefined ? range.until : Math.min(range.until, a.until)}
  })
  async function* reading() {
    for (const a of first) yield* source.read([a], {...readOptions, follow: false})
    yield* source.read(rest, {...readOptions, follow: options.follow, addedPartitions: options.addedPartitions})
  }
  const reader = reading()
  /** Read to its end, the copy's position is at the end too (readToEnd). */
  const finish = async (): Promise<PipeResult> => {
    if (!signal.aborted) await sink.flush(positionCommit(source, options, readToEnd(rest)))
    return {read, written: total}
  }
  if (!transform) {
    for await (const batch of reader) {
      const count = within(batch)
      if (count === 0) break
      for (let i = 0; i < count; i++) sink.add(batch, i)
      try {
        await sink.flush(commitFor(batch, batch.offsetAt(count - 1)))
      } catch (error) {
        // Ctrl-C while an outage is waited out: the batch stays uncommitted, to be copied by the next run.
        if (options.signal.aborted) break
        throw error
      }
      read += count
      total += count
      options.onBatch?.(read, total)
      if (count < batch.count) break
    }
    return finish()
  }

  // Each batch is written once answered, after the batches before it: `writes` chains them in order.
  let inFlight = 0
  let failure: unknown
  let writes: Promise<void> = Promise.resolve()
  for await (const batch of reader) {
    const count = within(batch)
    if (count === 0) break
    const records = Array.from({length: count}, (_, i) => recordAt(batch, i))
    const last = batch.offsetAt(count - 1)
    const answered = transform.apply(records)
    answered.catch(() => {})
    inFlight += records.length
    writes = writes.then(async () => {
      try {
        if (failure) return
        const output = await answered
        const changed = new ArrayRecordBatch(batch.topic, batch.partition, output)
        for (let i = 0; i < changed.count; i++) sink.add(changed, i)
        await sink.flush(commitFor(batch, last))
        read += records.length
        total += output.length
        options.onBatch?.(read, total)
      } catch (error) {
        failure ??= error
      } finally {
        inFlight -= records.length
      }
    })
    if (inFlight > RECORDS_IN_FLIGHT) await writes
    if (failure || count < batch.count) break
  }
  transform.end()
  if (options.signal.aborted) await Promise.race([writes, new Promise((r) => setTimeout(r, DRAIN_AFTER_INTERRUPT_MS).unref())])
  else await writes
  // After Ctrl-C a program that was stopped before it answered is not a failure: what it answered is in.
  if (failure && !options.signal.aborted) throw failure
  return finish()
}
