import {type Assignment, type Backend, partitionKey} from '../core/backend.js'
import type {KeySelection} from '../core/key-selection.js'
import {type FeedRecord, ArrayRecordBatch, type RecordBatch, recordAt} from '../core/record.js'
import type {RecordDecoder} from '../schemas/decoder.js'
import {type BufferedOutput, OutputClosedError} from '../io/output.js'
import type {RecordWriter} from '../io/record-writers.js'
import {planRead, selectPartitions} from './read-plan.js'
import {DecodingOutputSink, OutputSink} from './sinks.js'

export {planRead} from './read-plan.js'

export interface StreamOptions {
  writer: RecordWriter
  out: BufferedOutput
  signal: AbortSignal
  follow: boolean
  /** Stop after this many records in all. */
  limit?: number
  /** Commit each batch's position to this consumer group once the batch is written out. */
  group?: string
  /** --decode: framed keys and values are printed as JSON. */
  decoder?: RecordDecoder
  /** --key: only the records with one of these keys. */
  keys?: KeySelection
  /** Records looked at by a read by key, for progress. */
  onScanned?: (records: number) => void
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
  const signal = AbortSignal.any([options.signal, stop.signal])
  try {
    for await (const batch of backend.read(assignments, {signal, follow: options.follow, keys: options.keys, onScanned: options.onScanned})) {
      let take = limit === undefined ? batch.count : Math.min(batch.count, limit - written)
      let view: RecordBatch = batch
      let failure: Error | undefined
      if (options.decoder) {
        // A record that cannot be decoded ends the read after the records before it are out.
        const decoded = await options.decoder.decode(batch, take)
        view = decoded.batch
        take = decoded.batch.count
        failure = decoded.error
      }
      writer.write(view, 0, take, out)
      written += take
      if (options.group && take > 0) {
        // Only what the operating system has accepted counts as written: a kill after this re-reads at most this batch.
        await out.settle()
        await backend.commitOffsets(options.group, [{topic: batch.topic, partition: batch.partition, offset: batch.offsetAt(take - 1) + 1}])
      } else await out.flush()
      if (failure) throw failure
      if (limit !== undefined && written >= limit) {
        stop.abort()
        break
      }
    }
    await out.end()
  } catch (error) {
    if (error instanceof OutputClosedError) return {written, outputClosed: true}
    throw error
  }
  return {written, outputClosed: false}
}

/**
 * The newest `count` records over all the partitions, oldest first, in timestamp order (ties by
 * partition, then offset), like `tail -n`. Returns them with the offsets to follow from. With keys, the
 * newest `count` records of those keys: the whole partitions are read by key, keeping the newest `count`
 * of each.
 */
export async function lastRecords(
  backend: Backend,
  topics: string[],
  partitions: number[] | undefined,
  count: number,
  signal: AbortSignal,
  keyed: {keys?: KeySelection; onScanned?: (records: number) => void} = {},
): Promise<{records: FeedRecord[]; next: Assignment[]}> {
  const from = keyed.keys && count > 0 ? ({kind: 'earliest'} as const) : ({kind: 'before-end', count} as const)
  const window = await planRead(backend, {topics, partitions, from, follow: false})
  const records: FeedRecord[] = []
  const newest = (part: FeedRecord[]) => part.slice(Math.max(0, part.length - count))
  const byPartition = new Map<string, FeedRecord[]>()
  for await (const batch of backend.read(window, {signal, keys: keyed.keys, onScanned: keyed.onScanned})) {
    const name = partitionKey(batch.topic, batch.partition)
    let kept = byPartition.get(name)
    if (!kept) byPartition.set(name, (kept = []))
    for (let i = 0; i < batch.count; i++) kept.push(recordAt(batch, i))
    // Only the newest `count` of a partition can be among the newest over all.
    if (kept.length > 2 * count + 1024) byPartition.set(name, newest(kept))
  }
  for (const kept of byPartition.values()) records.push(...newest(kept))
  records.sort((a, b) => a.timestamp - b.timestamp || a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset)
  const last = newest(records)
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
