import type {Assignment, Backend, ReadOptions} from '../core/backend.js'
import type {KeySelection} from '../core/key-selection.js'
import type {Outage} from '../core/outage.js'
import {type FeedRecord, ArrayRecordBatch, type RecordBatch, firstStampedFrom, recordAt} from '../core/record.js'
import type {RecordDecoder} from '../schemas/decoder.js'
import {type BufferedOutput, OutputClosedError} from '../io/output.js'
import type {RecordWriter} from '../io/record-writers.js'
import {planRead, selectPartitions} from './read-plan.js'
import type {ReadCursor} from './cursors.js'
import type {RecordFilter} from './record-filter.js'
import {DecodingOutputSink, OutputSink, type PositionCommit, commitPosition, positionCommit, readToEnd} from './sinks.js'

export {followDeadline, planRead, wholeTopics} from './read-plan.js'

export interface StreamOptions {
  writer: RecordWriter
  out: BufferedOutput
  signal: AbortSignal
  follow: boolean
  /** Stop after this many records in all. */
  limit?: number
  /** Commit each batch's position to this consumer group once the batch is written out. */
  group?: string
  /** Store each batch's position in this cursor once the batch is written out. */
  cursor?: ReadCursor
  /** --decode: framed keys and values are printed as JSON. */
  decoder?: RecordDecoder
  /** --filter: only records that pass are written (and counted against `limit`); it sees decoded values. */
  filter?: RecordFilter
  /** --key: only the records with one of these keys. */
  keys?: KeySelection
  /** Records looked at by a read by key, for progress. */
  onScanned?: (records: number) => void
  /** Waits out Kafka outages (following reads): the reads and the group's commits are retried. */
  outage?: Outage
  /** Following whole topics: read the partitions added to them too (ReadOptions.addedPartitions). */
  addedPartitions?: ReadOptions['addedPartitions']
  /** A following read's end in time (followDeadline): it ends then, or at a record stamped at or after it. */
  stopAt?: number
}

export interface StreamResult {
  written: number
  /** The reader of our output went away (a closed pipe): a normal way to end. */
  outputClosed: boolean
}

/** Reads the assignments and writes every record out; the write of each batch completes before the next read. */
export async function streamRecords(backend: Backend, assignments: Assignment[], options: StreamOptions): Promise<StreamResult> {
  const {writer, out, limit} = options
  let written = 0
  if (limit !== undefined && limit <= 0) return {written, outputClosed: false}
  const stop = new AbortController()
  // A failed or closed output ends the read too: out.end() below then reports it. So does a follow's
  // end in time (stopAt).
  const deadline = options.stopAt === undefined ? [] : [AbortSignal.timeout(Math.max(0, options.stopAt - Date.now()))]
  const signal = AbortSignal.any([options.signal, stop.signal, out.broken, ...deadline])
  let previous: RecordBatch | undefined
  /** Commits once what the output holds has been accepted; a commit waits out an outage with the reads. */
  const commitWritten = async (commit: PositionCommit) => {
    // Only what the operating system has accepted counts as written: a kill after this re-reads at most this batch.
    await out.settle()
    await (options.outage ? options.outage.run(() => commitPosition(commit)) : commitPosition(commit))
  }
  try {
    for await (const batch of backend.read(assignments, {signal, follow: options.follow, keys: options.keys, onScanned: options.onScanned, outage: options.outage, addedPartitions: options.addedPartitions})) {
      const {filter} = options
      // With a filter the limit counts passing records, so the whole batch is looked at.
      let take = limit === undefined || filter ? batch.count : Math.min(batch.count, limit - written)
      const ends = options.stopAt === undefined ? take : firstStampedFrom(batch, options.stopAt, take)
      const reachedEnd = ends < take
      take = ends
      let view: RecordBatch = batch
      let failure: Error | undefined
      if (options.decoder) {
        // A record that cannot be decoded ends the read after the records before it are out.
        const decoded = await options.decoder.decode(batch, take)
        view = decoded.batch
        take = decoded.batch.count
        failure = decoded.error
      }
      // Records of the source batch read through: a group commits past them, passing or not.
      let consumed = take
      if (filter) {
        const selected = filter.select(view, take, limit === undefined ? undefined : limit - written)
        if (selected.error) failure = selected.error
        // The limit was reached before the record that could not be decoded: not a failure.
        else if (selected.consumed < take) failure = undefined
        view = selected.batch
        consumed = selected.consumed
        take = selected.batch.count
      }
      writer.write(view, 0, take, out)
      written += take
      const commit =
        consumed > 0 ? positionCommit(backend, options, [{topic: batch.topic, partition: batch.partition, offset: batch.offsetAt(consumed - 1) + 1, readFrom: batch.offsetAt(0)}]) : undefined
      if (commit) await commitWritten(commit)
      else await out.flush()
      // The writer has copied what it prints, or handed the stream bytes of the batch that it has written by
      // now (a decoded or filtered view is not used past this point), so the batch can be freed. The one
      // before it is freed now, this one after the next batch is read: a blob freed while it is the last
      // allocation would hand its memory back to the operating system, for the next read to fault it in
      // again (2.5x the page faults); freed below the next one, its memory is reused. Bytes the stream may
      // still be writing (BufferedOutput.writeShared, into a stream that is behind) are left to the collector.
      if (!out.sharesUnwrittenBytes) previous?.release?.()
      previous = batch
      if (failure) throw failure
      if (reachedEnd || (limit !== undefined && written >= limit)) {
        stop.abort()
        break
      }
    }
    // Read to its end, the group is at the end too: past the records a read by key left out, and past what
    // no record stands for (Kafka's transaction markers, or an aborted transaction's records, at the end).
    const atEnd = signal.aborted ? undefined : positionCommit(backend, options, readToEnd(assignments))
    if (atEnd) await commitWritten(atEnd)
    await out.end()
  } catch (error) {
    if (error instanceof OutputClosedError) return {written, outputClosed: true}
    throw error
  }
  return {written, outputClosed: false}
}

/**
 * The newest `count` records over all the partitions, oldest first, in timestamp order (ties by
 * partition, then offset), like `tail -n`. Returns them with the offsets to follow from.
 *
 * With `keep` (tail --filter) they are the newest `count` that pass, like `grep | tail -n`: the window
 * read back from the end grows (x4) until it holds that many or reaches the start of every partition,
 * keeping only passing records, so memory stays bounded by `count` whatever is read.
 *
 * With keys, the whole partitions are read through the key index (a key's newest records can be
 * anywhere), keeping the newest `count` as they go.
 */
export async function lastRecords(
  backend: Backend,
  topics: string[],
  partitions: number[] | undefined,
  count: number,
  signal: AbortSignal,
  options: {keep?: (record: FeedRecord) => boolean | Promise<boolean>; keys?: KeySelection; onScanned?: (records: number) => void} = {},
): Promise<{records: FeedRecord[]; next: Assignment[]}> {
  const {keep, keys} = options
  const order = (a: FeedRecord, b: FeedRecord) => a.timestamp - b.timestamp || a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset
  let span = count
  let window: Assignment[]
  let records: FeedRecord[]
  for (;;) {
    const from = keys && count > 0 ? ({kind: 'earliest'} as const) : ({kind: 'before-end', count: span} as const)
    window = await planRead(backend, {topics, partitions, from, follow: false})
    records = []
    for await (const batch of backend.read(window, {signal, keys, onScanned: options.onScanned}))
      for (let i = 0; i < batch.count; i++) {
        const record = recordAt(batch, i)
        if (keep && !(await keep(record))) continue
        records.push(record)
        if (records.length > 2 * count + 1024) records = records.sort(order).slice(-count)
      }
    const whole = keys !== undefined || window.every((a) => a.until !== undefined && a.until - a.from < span)
    if (!keep || count === 0 || records.length >= count || whole || signal.aborted) break
    span *= 4
  }
  records.sort(order)
  const last = records.slice(Math.max(0, records.length - count))
  const next: Assignment[] = []
  for (const topic of topics) {
    const info = await backend.describeTopic(topic)
    for (const part of selectPartitions(info, partitions)) {
      const planned = window.find((a) => a.topic === topic && a.partition === part.partition)
      next.push({topic, partition: part.partition, from: planned?.until ?? part.end})
    }
  }
  return {records: last, next}
}

/** tail --filter's test of one record, on its decoded form with --decode (as it is printed). */
export function passes(filter: RecordFilter, decoder: RecordDecoder | undefined): (record: FeedRecord) => boolean | Promise<boolean> {
  if (!decoder) return (record) => filter.matchesRecord(record)
  return async (record) => filter.matchesRecord(await decoder.decodeRecord(record))
}

/** Writes records of mixed partitions, one at a time, so every token sees its own topic and partition. */
export async function writeRecords(records: FeedRecord[], writer: RecordWriter, out: BufferedOutput, decoder?: RecordDecoder): Promise<boolean> {
  const sink = decoder ? new DecodingOutputSink(writer, out, decoder) : new OutputSink(writer, out)
  try {
    for (const record of records) sink.add(new ArrayRecordBatch(record.topic, record.partition, [record]), 0)
    await sink.flush()
    return true
  } catch (error) {
    if (error instanceof OutputClosedError) return false
    throw error
  }
}
