import type {Assignment, Backend} from '../core/backend.js'
import type {Outage} from '../core/outage.js'
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
  /** Waits out Kafka outages (following reads): the reads and the group's commits are retried. */
  outage?: Outage
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
    for await (const batch of backend.read(assignments, {signal, follow: options.follow, outage: options.outage})) {
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
        const commit = () => backend.commitOffsets(options.group!, [{topic: batch.topic, partition: batch.partition, offset: batch.offsetAt(take - 1) + 1}])
        await (options.outage ? options.outage.run(commit) : commit())
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
 * partition, then offset), like `tail -n`. Returns them with the offsets to follow from.
 */
export async function lastRecords(
  backend: Backend,
  topics: string[],
  partitions: number[] | undefined,
  count: number,
  signal: AbortSignal,
): Promise<{records: FeedRecord[]; next: Assignment[]}> {
  const window = await planRead(backend, {topics, partitions, from: {kind: 'before-end', count}, follow: false})
  const records: FeedRecord[] = []
  for await (const batch of backend.read(window, {signal}))
    for (let i = 0; i < batch.count; i++) records.push(recordAt(batch, i))
  records.sort((a, b) => a.timestamp - b.timestamp || a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset)
  const newest = records.slice(Math.max(0, records.length - count))
  const next: Assignment[] = []
  for (const topic of topics) {
    const info = await backend.describeTopic(topic)
    for (const part of selectPartitions(info, partitions)) {
      const planned = window.find((a) => a.topic === topic && a.partition === part.partition)
      next.push({topic, partition: part.partition, from: planned?.until ?? part.end})
    }
  }
  return {records: newest, next}
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
