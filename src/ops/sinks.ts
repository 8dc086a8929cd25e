import type {Assignment, Backend, GroupOffset} from '../core/backend.js'
import {SpoolError, TopicExistsError} from '../core/errors.js'
import type {Outage} from '../core/outage.js'
import {ArrayRecordBatch, type FeedRecord, type Header, PendingBatch, type RecordBatch, recordAt, recordSize} from '../core/record.js'
import {murmur2} from '../core/partitioner.js'
import type {RecordDecoder} from '../schemas/decoder.js'
import type {ReadCursor} from './cursors.js'
import type {BufferedOutput} from '../io/output.js'
import type {RecordWriter} from '../io/record-writers.js'
import {type CopiedPositions, type CopyIdentity, copiedSinceCommit, sourceStamp} from './source-stamp.js'
import {noteTopicCreated, PartitionRouter, topicPartitions} from './topic-writer.js'

/** Where a reader's position goes once a flush has written: the source's consumer group, or a cursor. */
export type PositionCommit = {source: Backend; group: string; offsets: GroupOffset[]} | {cursor: ReadCursor; offsets: GroupOffset[]}

/** The commit for a reader with a group or a cursor (undefined with neither, or nothing to commit). */
export function positionCommit(source: Backend, by: {group?: string; cursor?: ReadCursor}, offsets: GroupOffset[]): PositionCommit | undefined {
  if (offsets.length === 0) return undefined
  if (by.group !== undefined) return {source, group: by.group, offsets}
  if (by.cursor) return {cursor: by.cursor, offsets}
  return undefined
}

/**
 * Where a read that ran to its end leaves each partition it read up to an end: at that end. Committed
 * after such a read: a read by key hands out only its records, and Kafka has offsets no record stands
 * for (transaction markers); committed only past the last record handed out, a group stayed behind
 * them (or had no commit in a partition without any), and its lag never reached 0.
 */
export function readToEnd(assignments: readonly Assignment[]): GroupOffset[] {
  return assignments.filter((a) => a.until !== undefined).map((a) => ({topic: a.topic, partition: a.partition, offset: a.until!}))
}

/**
 * The next offset to commit per partition of a merged read (replay, consume --merge), by the partition's
 * place in the read's assignments; `flush` writes the sink's records and then commits those offsets.
 */
export class MergedPositions {
  private readonly next: Array<number | undefined>

  constructor(
    private readonly assignments: ReadonlyArray<{topic: string; partition: number}>,
    private readonly sink: RecordSink,
    private readonly source: Backend,
    private readonly by: {group?: string; cursor?: ReadCursor},
  ) {
    this.next = assignments.map(() => undefined)
  }

  /**
   * The partition at `slot` is done up to `nextOffset` (its records written or filtered out). Kept
   * without a group or a cursor too: flush then commits nothing (positionCommit).
   */
  passed(slot: number, nextOffset: number): void {
    this.next[slot] = nextOffset
  }

  async flush(): Promise<void> {
    const offsets: GroupOffset[] = []
    this.next.forEach((offset, k) => {
      if (offset !== undefined) offsets.push({topic: this.assignments[k]!.topic, partition: this.assignments[k]!.partition, offset})
      this.next[k] = undefined
    })
    await this.sink.flush(positionCommit(this.source, this.by, offsets))
  }

  /**
   * A filter's answer for one record. When the filter throws, the records before this one go out (and
   * are committed) before the error, so a rerun starts at the record that failed.
   */
  async kept(filter: (record: FeedRecord) => boolean | Promise<boolean>, record: FeedRecord): Promise<boolean> {
    try {
      const answer = filter(record)
      return typeof answer === 'boolean' ? answer : await answer
    } catch (error) {
      await this.flush()
      throw error
    }
  }
}

/**
 * Commits where a reader with a group or a cursor starts in the partitions it had no position in
 * (ReadPlanOptions.unpositioned), before it reads: without it, a first run that read nothing (--from
 * latest, -c 0, Ctrl-C before a record came) left none, and the next run read everything from the start.
 */
export async function commitStarts(source: Backend, by: {group?: string; cursor?: ReadCursor}, starts: GroupOffset[]): Promise<void> {
  const commit = positionCommit(source, by, starts)
  if (commit) await commitPosition(commit)
}

export async function commitPosition(commit: PositionCommit): Promise<void> {
  if ('cursor' in commit) await commit.cursor.commit(commit.offsets)
  else await commit.source.commitOffsets(commit.group, commit.offsets)
}

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
  flush(commit?: PositionCommit): Promise<void>
  /** The delivery guarantee this sink gives with a consumer group, for messages and docs. */
  readonly guarantee: 'exactly-once' | 'at-least-once'
  /** Optional (stdout): aborted once the output has failed or its reader has gone, for waits to end on. */
  readonly broken?: AbortSignal
  /**
   * Optional (the exactly-once copy into Kafka): for each source partition of which an interrupted run
   * wrote records past the group's position, the range from that position to just after the last of
   * them. The copy finishes and commits those ranges first, before anything of another partition, and
   * whether or not its own assignments include them (source-stamp.ts says why).
   */
  interrupted?(): Map<number, {from: number; until: number}>
}

/**
 * Records to stdout through a writer (value lines, --format, --json). Each record is rendered into the
 * output's chunks at once; flush hands them to stdout.
 */
export class OutputSink implements RecordSink {
  private count = 0
  readonly guarantee = 'at-least-once' as const

  get broken(): AbortSignal {
    return this.out.broken
  }

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

  async flush(commit?: PositionCommit): Promise<void> {
    this.count = 0
    if (commit) {
      await this.out.settle()
      await commitPosition(commit)
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

  get broken(): AbortSignal {
    return this.out.broken
  }

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

  async flush(commit?: PositionCommit): Promise<void> {
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
      await commitPosition(commit)
    } else await this.out.flush()
  }
}

export interface TopicSinkOptions {
  /** Timestamps become the time of writing instead of the originals. */
  retime?: boolean
  /** Partitions of the source, to keep each record's partition when the counts match. */
  sourcePartitions?: number
  /** Where the reader's position is kept when that is not the source: a cursor's local store. */
  positionStore?: Backend
  /**
   * The copy's group and source topic, for exactly-once copies into Kafka: each record is stamped with
   * its source position and what a killed run wrote past the group's offsets is skipped (source-stamp.ts).
   */
  stamp?: CopyIdentity
  /** Waits out outages of the destination instead of failing (following copies). */
  outage?: Outage
  /** Stops a wait or a read-back of the destination. */
  signal?: AbortSignal
}

/**
 * Records into a topic of any backend. Partitions are kept where the source and destination have the
 * same count (a partition added to the source since goes by key); otherwise keys choose with murmur2 and
 * keyless records go to one partition per flush.
 * Between two topics of one local store the records and the group's offsets commit in one transaction.
 */
export class TopicSink implements RecordSink {
  private batches = new Map<number, PendingBatch>()
  private count = 0

  protected constructor(
    protected readonly destination: Backend,
    protected readonly topic: string,
    private readonly router: PartitionRouter,
    private readonly keepPartitions: boolean,
    protected readonly options: TopicSinkOptions,
    readonly guarantee: 'exactly-once' | 'at-least-once',
  ) {}

  /** Opens the destination topic, creating it like the source (same partition count) when missing. */
  static async open(destination: Backend, topic: string, source: Backend | undefined, options: TopicSinkOptions): Promise<TopicSink> {
    const patiently = <T>(call: () => Promise<T>) => (options.outage ? options.outage.run(call) : call())
    const found = await patiently(() => topicPartitions(destination, topic, {partitions: options.sourcePartitions ?? 1}))
    let {partitions} = found
    if (!found.exists) {
      try {
        await patiently(() => destination.createTopic(topic, {partitions}))
        noteTopicCreated(topic, partitions, destination.location)
      } catch (error) {
        // Another process made it meanwhile (two copies started together): write into theirs.
        if (!(error instanceof TopicExistsError)) throw error
        ;({partitions} = await patiently(() => topicPartitions(destination, topic, {partitions})))
      }
    }
    const keeper = options.positionStore ?? source
    const atomic = keeper !== undefined && destination.atomicCommit && destination.sameStoreAs(keeper)
    // Into Kafka no transaction spans source and destination, so the destination's own tail says what a
    // killed run already wrote. Into a local store the copy stays byte for byte (no stamp header): there
    // a cursor gives exactly once, its position committed in the batch's own transaction.
    if (!atomic && source !== undefined && options.stamp && destination.kind === 'kafka') {
      const sink = new StampingTopicSink(destination, topic, new PartitionRouter(partitions), options.sourcePartitions === partitions, options, 'exactly-once')
      await sink.recover(source)
      return sink
    }
    return new TopicSink(destination, topic, new PartitionRouter(partitions), options.sourcePartitions === partitions, options, atomic ? 'exactly-once' : 'at-least-once')
  }

  /** Runs a call to the destination, waiting out outages when the copy follows. */
  protected patiently<T>(call: () => Promise<T>): Promise<T> {
    return this.options.outage ? this.options.outage.run(call) : call()
  }

  /** Puts record `index` of `source` into the batch of its destination partition. */
  protected route(source: RecordBatch, index: number, extraHeader?: Header): void {
    const key = source.keyAt(index)
    const value = source.valueAt(index)
    const hash = key !== null ? murmur2(key) : 0
    // A partition added to the source while a copy follows it has no counterpart: its records go by key.
    const kept = this.keepPartitions && source.partition < this.router.partitions
    const partition = this.router.route(key !== null ? hash : null, kept ? source.partition : undefined)
    let batch = this.batches.get(partition)
    if (!batch) this.batches.set(partition, (batch = new PendingBatch(partition)))
    const headerList = extraHeader ? [...source.headersAt(index), extraHeader] : source.headersAt(index)
    const headers = headerList.length > 0 ? headerList : null
    batch.add(value, key, headers, this.options.retime ? Date.now() : source.timestampAt(index), recordSize(key, value, headers), hash)
  }

  /** The batches routed since the last call, for one append. */
  protected takeBatches(): PendingBatch[] {
    const batches = [...this.batches.values()]
    this.batches = new Map()
    this.router.nextBatch()
    return batches
  }

  get pending() {
    return this.count
  }

  add(source: RecordBatch, index: number): void {
    this.route(source, index)
    this.count++
  }

  async flush(commit?: PositionCommit): Promise<void> {
    const batches = this.takeBatches()
    this.count = 0
    if (commit && this.guarantee === 'exactly-once') {
      await this.destination.append(
        this.topic,
        batches,
        'cursor' in commit ? {cursor: commit.cursor.commitOf(commit.offsets)} : {commit: {group: commit.group, offsets: commit.offsets}},
      )
      return
    }
    // A retry after an outage sends the whole batch again: without a group's stamps, at least once.
    if (batches.length > 0) await this.patiently(() => this.destination.append(this.topic, batches))
    // At-least-once: the position moves only after the destination acknowledged the batch.
    if (commit) await this.patiently(() => commitPosition(commit))
  }
}

/**
 * TopicSink for exactly-once copies into Kafka (source-stamp.ts): records are held until the flush,
 * stamped with their source position, and those already in the destination are left out. A write that
 * fails part way is read back again before it is retried, so a retry after an outage repeats nothing.
 */
class StampingTopicSink extends TopicSink {
  private held: {batch: RecordBatch; index: number}[] = []
  private copied: CopiedPositions = new Map()
  /** The group's offsets in the source topic when the destination was last read back. */
  private committed = new Map<number, number>()
  private source?: Backend

  /**
   * Reads back what a killed run, or this run's failed write, wrote past the group's offsets. A failed
   * write's requests are settled first (sent again under their sequence numbers until answered), so that
   * none of them can be stored after the read-back has looked.
   */
  async recover(source: Backend): Promise<void> {
    this.source = source
    const signal = this.options.signal ?? new AbortController().signal
    const found = await this.patiently(async () => {
      await this.destination.settleAppends?.()
      return copiedSinceCommit(source, this.destination, this.topic, this.options.stamp!, signal)
    })
    this.copied = found.copied
    this.committed = found.committed
  }

  override get pending() {
    return this.held.length
  }

  interrupted(): Map<number, {from: number; until: number}> {
    const ranges = new Map<number, {from: number; until: number}>()
    for (const [partition, offsets] of this.copied) {
      let last = -1
      for (const offset of offsets.keys()) if (offset > last) last = offset
      if (last >= 0) ranges.set(partition, {from: this.committed.get(partition) ?? 0, until: last + 1})
    }
    return ranges
  }

  override add(source: RecordBatch, index: number): void {
    this.held.push({batch: source, index})
  }

  override async flush(commit?: PositionCommit): Promise<void> {
    const held = this.held
    this.held = []
    let attempts = 0
    await this.patiently(async () => {
      if (attempts++ > 0) await this.recover(this.source!)
      for (const {batch, index} of held) {
        const offset = batch.offsetAt(index)
        const there = this.copied.get(batch.partition)?.get(offset)
        if (there === undefined) this.route(batch, index, sourceStamp(this.options.stamp!, batch.partition, offset))
        else if (there !== batch.timestampAt(index)) throw this.conflict(batch.partition, offset)
      }
      const batches = this.takeBatches()
      if (batches.length > 0) await this.destination.append(this.topic, batches)
    })
    if (commit) await this.patiently(() => commitPosition(commit))
    for (const {batch, index} of held) this.copied.get(batch.partition)?.delete(batch.offsetAt(index))
  }

  private conflict(partition: number, offset: number): SpoolError {
    const {group, topic} = this.options.stamp!
    return new SpoolError(
      `'${this.topic}' in ${this.destination.location} holds a record stamped as ${topic}/${partition}/${offset} of group '${group}' that differs from that source record: another copy writes into it with the same group`,
      {hint: 'give each copy into one destination its own group (-g)'},
    )
  }
}
