import type {Backend, GroupOffset} from '../core/backend.js'
import {ArrayRecordBatch, type FeedRecord, PendingBatch, type RecordBatch, recordAt, recordSize} from '../core/record.js'
import type {RecordDecoder} from '../schemas/decoder.js'
import type {BufferedOutput} from '../io/output.js'
import type {RecordWriter} from '../io/record-writers.js'
import {noteTopicCreated, PartitionRouter, topicPartitions} from './topic-writer.js'

/**
 * Where replay and pipe put records. `flush` writes what was added and then, only once that write has
 * succeeded, commits `commit` to the source's consumer group, so a reader killed at any moment re-reads
 * at most one batch and never skips one.
 */
export interface RecordSink {
  /** Takes record `index` of `batch`; it may keep views of the batch's bytes until flush. */
  add(batch: RecordBatch, index: number): void
  /** Optional: takes records [start, end) of `batch` at once, as add() would one by one. */
  addRange?(batch: RecordBatch, start: number, end: number): void
  readonly pending: number
  flush(commit?: {source: Backend; group: string; offsets: GroupOffset[]}): Promise<void>
  /** The delivery guarantee this sink gives with a consumer group, for messages and docs. */
  readonly guarantee: 'exactly-once' | 'at-least-once'
}

/**
 * Records to stdout through a writer (value lines, --format, --json). Each record is rendered into the
 * output's chunks at once; flush hands them to stdout.
 */
export class OutputSink implements RecordSink {
  private count = 0
  readonly guarantee = 'at-least-once' as const

  constructor(private readonly writer: RecordWriter, private readonly out: BufferedOutput) {}

  get pending() {
    return this.count
  }

  add(batch: RecordBatch, index: number): void {
    this.writer.write(batch, index, index + 1, this.out)
    this.count++
  }

  addRange(batch: RecordBatch, start: number, end: number): void {
    this.writer.write(batch, start, end, this.out)
    this.count += end - start
  }

  async flush(commit?: {source: Backend; group: string; offsets: GroupOffset[]}): Promise<void> {
    this.count = 0
    if (commit) {
      await this.out.settle()
      await commit.source.commitOffsets(commit.group, commit.offsets)
    } else await this.out.flush()
  }
}

/**
 * OutputSink with --decode: records wait for the flush, where their schemas are fetched (asynchronously)
 * and they are decoded and written in order. A record that cannot be decoded fails the flush after the
 * records before it are out, and nothing is committed.
 */
export class DecodingOutputSink implements RecordSink {
  private records: FeedRecord[] = []
  readonly guarantee = 'at-least-once' as const

  constructor(
    private readonly writer: RecordWriter,
    private readonly out: BufferedOutput,
    private readonly decoder: RecordDecoder,
  ) {}

  get pending() {
    return this.records.length
  }

  add(batch: RecordBatch, index: number): void {
    this.records.push(recordAt(batch, index))
  }

  async flush(commit?: {source: Backend; group: string; offsets: GroupOffset[]}): Promise<void> {
    const records = this.records
    this.records = []
    // Runs of one partition decode as one batch; the order of the records is kept.
    for (let start = 0; start < records.length; ) {
      let end = start + 1
      while (end < records.length && records[end]!.topic === records[start]!.topic && records[end]!.partition === records[start]!.partition) end++
      const run = new ArrayRecordBatch(records[start]!.topic, records[start]!.partition, records.slice(start, end))
      const decoded = await this.decoder.decode(run, run.count)
      this.writer.write(decoded.batch, 0, decoded.batch.count, this.out)
      if (decoded.error) {
        await this.out.flush()
        throw decoded.error
      }
      start = end
    }
    if (commit) {
      await this.out.settle()
      await commit.source.commitOffsets(commit.group, commit.offsets)
    } else await this.out.flush()
  }
}

export interface TopicSinkOptions {
  /** Timestamps become the time of writing instead of the originals. */
  retime?: boolean
  /** Partitions of the source, to keep each record's partition when the counts match. */
  sourcePartitions?: number
}

/**
 * Records into a topic of any backend. Partitions are kept where the source and destination have the
 * same count; otherwise keys choose with murmur2 and keyless records go to one partition per flush.
 * Between two topics of one local store the records and the group's offsets commit in one transaction.
 */
export class TopicSink implements RecordSink {
  private batches = new Map<number, PendingBatch>()
  private count = 0

  private constructor(
    private readonly destination: Backend,
    private readonly topic: string,
    private readonly router: PartitionRouter,
    private readonly keepPartitions: boolean,
    private readonly options: TopicSinkOptions,
    readonly guarantee: 'exactly-once' | 'at-least-once',
  ) {}

  /** Opens the destination topic, creating it like the source (same partition count) when missing. */
  static async open(destination: Backend, topic: string, source: Backend | undefined, options: TopicSinkOptions): Promise<TopicSink> {
    const {partitions, exists} = await topicPartitions(destination, topic, {partitions: options.sourcePartitions ?? 1})
    if (!exists) {
      await destination.createTopic(topic, {partitions})
      noteTopicCreated(topic, partitions, destination.location)
    }
    const atomic = source !== undefined && destination.atomicCommit && destination.sameStoreAs(source)
    return new TopicSink(destination, topic, new PartitionRouter(partitions), options.sourcePartitions === partitions, options, atomic ? 'exactly-once' : 'at-least-once')
  }

  get pending() {
    return this.count
  }

  add(source: RecordBatch, index: number): void {
    const key = source.keyAt(index)
    const value = source.valueAt(index)
    const partition = this.router.route(key, this.keepPartitions ? source.partition : undefined)
    let batch = this.batches.get(partition)
    if (!batch) this.batches.set(partition, (batch = new PendingBatch(partition)))
    const headerList = source.headersAt(index)
    const headers = headerList.length > 0 ? headerList : null
    batch.add(value, key, headers, this.options.retime ? Date.now() : source.timestampAt(index), recordSize(key, value, headers))
    this.count++
  }

  async flush(commit?: {source: Backend; group: string; offsets: GroupOffset[]}): Promise<void> {
    const batches = [...this.batches.values()]
    this.batches = new Map()
    this.count = 0
    this.router.nextBatch()
    if (commit && this.guarantee === 'exactly-once') {
      await this.destination.append(this.topic, batches, {commit: {group: commit.group, offsets: commit.offsets}})
      return
    }
    if (batches.length > 0) await this.destination.append(this.topic, batches)
    if (commit) await commit.source.commitOffsets(commit.group, commit.offsets)
  }
}
