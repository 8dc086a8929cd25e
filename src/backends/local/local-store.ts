import {closeSync, openSync, statSync} from 'node:fs'
import type Database from 'better-sqlite3'
import type {
  AppendOptions,
  AppendResult,
  Assignment,
  Backend,
  BatchSummary,
  GroupOffset,
  PartitionInfo,
  ReadOptions,
  TopicChanges,
  TopicInfo,
  TopicSettings,
} from '../../core/backend.js'
import {crc32c} from '../../core/checksum.js'
import {PartitionsNotAddedError, SpoolError, StoreGoneError, TopicExistsError, UnknownGroupError, UnknownTopicError, UsageError} from '../../core/errors.js'
import type {KeySelection} from '../../core/key-selection.js'
import {ArrayRecordBatch, type FeedRecord, type PendingBatch, type RecordBatch} from '../../core/record.js'
import {validateTopicName} from '../../core/topic-name.js'
import {PartitionGrowth} from '../../core/partition-growth.js'
import {NO_LIMIT} from '../../core/units.js'
import {BatchDamage, NewlineSeparatedValues, encodeBatch, timestampBounds} from './batch-codec.js'
import {RECHECK_DELAYS_MS, StoreChangeWatch} from './change-watch.js'
import {CHECKPOINT_WORKER_AFTER_BYTES, Checkpointer} from './checkpointer.js'
import {type BatchCheck, type StoreCheck, StoreDamageError, checkRows, checkStore, missingRecords, verifiedBatch} from './integrity.js'
import {candidateProbes, keyFilter, mayHoldKey} from './key-index.js'
import {MapChecksumDamage, buildKeyMap, chunkRuns, indexesWithHash, manyChunksAhead, parseKeyMap, recordMapAndChecksum, recordsFromRuns} from './key-map.js'
import {type BatchKeys, POSTED, SEGMENT_BATCHES, SEGMENT_SPAN, batchKeys, postedOffsets, segmentParams, segmentRows} from './key-postings.js'
import {LocalCursorStore} from './cursor-store.js'
import {LocalRegistry} from './local-registry.js'
import {deleteExpired, retained} from './retention.js'
import {type KeyCandidateRow, type Statements, type TopicRow, prepareStatements} from './statements.js'
import {type StoreAccess, type StoreFile, openStoreFile, storeError} from './store-file.js'
import {capYoungGeneration} from '../../core/young-generation.js'

export interface LocalStoreOptions {
  path: string
  /** What the command will do; a store opened for reading is never written, created or upgraded. */
  access?: StoreAccess
  /** synchronous=FULL: a commit survives a power cut, not only a crash of the process. */
  durable?: boolean
  /** How long a writer waits for another writer's transaction before giving up. */
  busyTimeoutMs?: number
}

export const MAX_PARTITIONS = 10_000
/** Rows a reader fetches at a time; a row is one batch of at most ~1 MiB, which bounds a reader's memory. */
const BATCHES_PER_FETCH = 8
/**
 * A read hands out batches without waiting for anything: into a sink that does not wait either (pipe or
 * replay --to into a local topic: SQLite is synchronous) every await resolves at once, and Node never
 * got back to its event loop, where signals are handled: Ctrl-C did nothing until the copy ended. So a
 * read gives the loop a turn after this long without one.
 */
const EVENT_LOOP_TURN_MS = 25
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))
/** How often a busy follower of whole topics looks for partitions added to them (an idle one looks at each wake-up). */
const GROWTH_CHECK_MS = 1000
/** The largest encode buffer a store keeps between batches. */
const SCRATCH_LIMIT = 8 << 20
/** SQLite's own wal_autocheckpoint, restored when the checkpoint thread fails. */
const DEFAULT_WAL_AUTOCHECKPOINT = 1000
/** Key index rows a read by key walks at a time; a row holds about 10 bits per record of its batch. */
const KEY_ROWS_PER_FETCH = 256
/** The filter of a batch without keys (both before and from store version 8). */
const NO_KEYS = Buffer.alloc(0)

/** A batch whose index rows (store version 8) wait for its segment: its keys and its record map, if keyed. */
interface UnindexedBatch {
  baseOffset: number
  count: number
  keys: BatchKeys | undefined
  map: Buffer | undefined
}
/** Key postings rows a read by key takes per bucket and fetch; a row holds a segment of 64 batches. */
const SEGMENTS_PER_FETCH = 8
/**
 * Batches a read by key through key postings reads per fetch: more than BATCHES_PER_FETCH, as it holds
 * only the records of the key, not whole batches; fewer fetches walk the postings fewer times.
 */
const POSTED_BATCHES_PER_FETCH = 32

/**
 * A batch a read by key reads: named by its Bloom filter, or by key postings (`indexes`, the records
 * they name); `map` when already read (null: read the batch whole).
 */
interface Candidate {
  base_offset: number
  record_count: number
  indexes?: number[]
  map?: Buffer | null
}

interface Cursor extends Assignment {
  topicId: number
  /** The next offset to hand out. */
  next: number
  /** Where the last batch read ended, to see that the next one follows on; undefined before the first. */
  batchEnd: number | undefined
  done: boolean
  /** A read by key: up to where the index rows were found to follow on, all posted or keyless (store version 8). */
  postedUntil?: number
}

/**
 * The embedded log store: one SQLite file in WAL mode, one row per batch of records, each with a CRC-32C
 * checked on every read. Every write is a BEGIN IMMEDIATE transaction, so several processes can produce
 * and follow the same file at once. Opened for reading, the store is read-only: reads never write.
 */
export class LocalBackend implements Backend {
  readonly kind = 'local' as const
  readonly atomicCommit = true
  /** Plain lines are stored with a newline after each value (store version 9): batch-codec.ts. */
  readonly packedLayout = {keys: false, create: (bytes: number, records: number) => new NewlineSeparatedValues(bytes, records)}
  readonly location: string
  private readonly file: StoreFile
  private readonly db: Database.Database
  private readonly s: Statements
  private readonly access: StoreAccess
  private changeWatch: StoreChangeWatch | undefined
  private scratch: Buffer | undefined
  /**
   * Writes key index rows (with each batch; from store version 8 with its segment of key postings). Only
   * bench/key-index.js turns it off (SPOOL_BENCH_NO_KEY_INDEX=1), to measure what the index costs
   * produce; reads stay exact without the rows (they read such batches).
   */
  private readonly indexKeys: boolean
  private cursors: LocalCursorStore | undefined
  /** Bytes of batches this process has appended; past a threshold checkpoints move to a thread. */
  private appendedBytes = 0
  private checkpointer: Checkpointer | undefined
  /** The store file, open for the checkpoint thread to sync; closed only after the connection (close()). */
  private checkpointFd: number | undefined
  private readonly busyTimeoutMs: number
  /**
   * Batches this process wrote whose index rows are not written yet, by "topic id/partition": written
   * with their segment of key postings every SEGMENT_BATCHES batches and at close (key-postings.ts).
   */
  private readonly pendingKeys = new Map<string, {topicId: number; partition: number; batches: UnindexedBatch[]}>()

  constructor(options: LocalStoreOptions) {
    this.location = options.path
    this.access = options.access ?? 'write'
    this.busyTimeoutMs = options.busyTimeoutMs ?? 10_000
    this.file = openStoreFile({path: options.path, access: this.access, durable: options.durable, busyTimeoutMs: options.busyTimeoutMs})
    this.db = this.file.db
    this.s = prepareStatements(this.db, this.file.version)
    this.indexKeys = this.s.keyIndex !== undefined && process.env.SPOOL_BENCH_NO_KEY_INDEX !== '1'
  }

  schemaRegistry(): LocalRegistry {
    return new LocalRegistry(this.db, this.location, this.access)
  }

  cursorStore(): LocalCursorStore {
    return (this.cursors ??= new LocalCursorStore(this.db, this.location, this.file.version, (doing, write) => this.writing(doing, write), (doing, read) => this.reading(doing, read)))
  }

  private topicRow(name: string): TopicRow | undefined {
    return this.s.topicByName.get(name)
  }

  private requireTopic(name: string): TopicRow {
    const row = this.topicRow(name)
    if (!row) throw new UnknownTopicError(name, this.location)
    return row
  }

  /** Runs a read, putting SQLite's failures (a damaged or vanished file) in spool's words. */
  private reading<T>(doing: string, read: () => T): T {
    try {
      return read()
    } catch (error) {
      throw storeError(error, this.location, doing)
    }
  }

  /** One immediate write transaction, with SQLite's failures in spool's words. */
  private writing<T>(doing: string, write: () => T): T {
    if (this.access !== 'write') throw new Error(`spool bug: ${doing} on a store opened for reading`)
    try {
      return this.db.transaction(write).immediate()
    } catch (error) {
      throw storeError(error, this.location, doing)
    }
  }

  private info(row: TopicRow): TopicInfo {
    const now = Date.now()
    const partitionInfo: PartitionInfo[] = this.s.partitions.all(row.id).map((p) => {
      const kept = retained(this.s, row, p, now)
      const bounds = kept.start < p.next_offset ? this.s.timeBounds.get(row.id, p.partition, kept.start, row.id, p.partition) : undefined
      return {
        partition: p.partition,
        start: kept.start,
        end: p.next_offset,
        bytes: kept.bytes,
        firstTimestamp: bounds?.first ?? undefined,
        lastTimestamp: bounds?.last ?? undefined,
      }
    })
    return {
      name: row.name,
      partitions: row.partitions,
      retentionMs: row.retention_ms ?? undefined,
      retentionBytes: row.retention_bytes ?? undefined,
      createdAt: row.created_at,
      topicId: `${row.id}@${row.created_at}`,
      partitionInfo,
    }
  }

  private insertTopic(name: string, settings: TopicSettings): TopicRow {
    checkSettings(settings)
    const limit = (value: number | undefined) => (value === undefined || value === NO_LIMIT ? null : value)
    const result = this.s.insertTopic.run(name, settings.partitions, limit(settings.retentionMs), limit(settings.retentionBytes), Date.now())
    const id = Number(result.lastInsertRowid)
    for (let p = 0; p < settings.partitions; p++) this.s.insertPartition.run(id, p)
    return this.s.topicById.get(id)!
  }

  async createTopic(name: string, settings: TopicSettings): Promise<TopicInfo> {
    validateTopicName(name)
    const row = this.writing(`cannot create topic '${name}' in ${this.location}`, () => {
      if (this.topicRow(name)) throw new TopicExistsError(name, this.location)
      return this.insertTopic(name, settings)
    })
    return this.info(row)
  }

  async listTopics(): Promise<TopicInfo[]> {
    return this.reading(`cannot read store ${this.location}`, () => this.s.allTopics.all().map((row) => this.info(row)))
  }

  async describeTopic(name: string): Promise<TopicInfo> {
    return this.reading(`cannot read store ${this.location}`, () => this.info(this.requireTopic(name)))
  }

  async deleteTopic(name: string): Promise<void> {
    this.writing(`cannot delete topic '${name}' from ${this.location}`, () => {
      const row = this.requireTopic(name)
      this.s.deleteBatches.run(row.id)
      this.s.keyIndex?.deleteTopic.run(row.id)
      this.s.keyIndex?.maps?.deleteTopic.run(row.id)
      this.s.keyIndex?.postings?.deleteTopic.run(row.id)
      this.s.deleteTopicGroupOffsets.run(row.id)
      this.s.deletePartitions.run(row.id)
      this.s.deleteTopic.run(row.id)
    })
  }

  /**
   * One immediate transaction: a producer in another process that routes by key reads the partition
   * count inside its own write transaction, so it sees the old count or the new one, never a topic with
   * partitions missing. Existing records stay where they are; new partitions start at offset 0.
   */
  async alterTopic(name: string, changes: TopicChanges): Promise<TopicInfo> {
    const {retentionMs, retentionBytes} = localRetention(changes)
    if (changes.partitions !== undefined) checkSettings({partitions: changes.partitions})
    const row = this.writing(`cannot alter topic '${name}' in ${this.location}`, () => {
      const row = this.requireTopic(name)
      if (changes.partitions !== undefined) {
        if (changes.partitions <= row.partitions) throw new PartitionsNotAddedError(name, row.partitions, changes.partitions)
        for (let p = row.partitions; p < changes.partitions; p++) this.s.insertPartition.run(row.id, p)
        this.s.setTopicPartitions.run(changes.partitions, row.id)
      }
      if (retentionMs !== undefined || retentionBytes !== undefined) {
        const limit = (value: number | undefined, before: number | null) => (value === undefined ? before : value === NO_LIMIT ? null : value)
        const updated = {...row, retention_ms: limit(retentionMs, row.retention_ms), retention_bytes: limit(retentionBytes, row.retention_bytes)}
        this.s.setTopicRetention.run(updated.retention_ms, updated.retention_bytes, row.id)
        // A tighter limit applies at once, as a write would apply it.
        for (let p = 0; p < row.partitions; p++) deleteExpired(this.s, updated, p, Date.now())
      }
      return this.s.topicById.get(row.id)!
    })
    return this.info(row)
  }

  async append(topic: string, batches: PendingBatch[], options: AppendOptions = {}): Promise<AppendResult> {
    capYoungGeneration()
    const encoded = batches.filter((b) => b.count > 0)
    const s = this.s
    let bytes = 0
    // The pending batches of each partition written to, with this append's: kept once it commits.
    const written = new Map<string, {topicId: number; partition: number; batches: UnindexedBatch[]}>()
    const result = this.writing(`cannot write to topic '${topic}' in ${this.location}`, () => {
      let row = this.topicRow(topic)
      let created = false
      if (!row) {
        if (!options.createWith) throw new UnknownTopicError(topic, this.location)
        validateTopicName(topic)
        row = this.insertTopic(topic, options.createWith)
        created = true
      }
      let count = 0
      const touched = new Set<number>()
      for (const batch of encoded) {
        if (batch.partition >= row.partitions)
          throw new SpoolError(`topic '${topic}' has ${row.partitions} partitions; there is no partition ${batch.partition}`)
        const part = s.partition.get(row.id, batch.partition)!
        const blob = encodeBatch(batch, this.scratch)
        bytes += blob.length
        if (blob.buffer !== this.scratch?.buffer && blob.length <= SCRATCH_LIMIT) this.scratch = Buffer.allocUnsafe(Math.max(blob.length, 1 << 20))
        const {min, max} = timestampBounds(batch)
        const posting = this.indexKeys && s.keyIndex!.postings !== undefined
        const keyed = posting ? batchKeys(part.next_offset, batch.keys, batch.count, batch.keyHashes) : undefined
        // A keyed batch's record map checksums each 8 KiB of it: the batch's own checksum is derived from those.
        const mapped = keyed ? recordMapAndChecksum(blob) : undefined
        s.insertBatch!.run(row.id, batch.partition, part.next_offset, batch.count, min, max, blob.length, blob, mapped ? mapped.crc : crc32c(blob))
        if (this.indexKeys) {
          const index = s.keyIndex!
          if (posting) {
            // Store version 8: the batch's index rows wait for its segment of key postings (no row: a read
            // by key reads it whole until then). Written per batch, they rewrote a page of batch_keys
            // and one or two of batch_key_map in every commit: more WAL bytes than the postings.
            const key = `${row.id}/${batch.partition}`
            const list = written.get(key) ?? written.set(key, {topicId: row.id, partition: batch.partition, batches: [...(this.pendingKeys.get(key)?.batches ?? [])]}).get(key)!
            list.batches.push({baseOffset: part.next_offset, count: batch.count, keys: keyed, map: mapped?.map})
          } else {
            index.insert.run(row.id, batch.partition, part.next_offset, batch.count, keyFilter(batch.keys, batch.count, batch.keyHashes))
            // Keyless batches need no map: their (empty) filter never names them to a read by key.
            if (batch.keys && index.maps) index.maps.insert.run(row.id, batch.partition, part.next_offset, buildKeyMap(blob, batch.keys, batch.keyHashes))
          }
        }
        s.advancePartition.run(part.next_offset + batch.count, blob.length, row.id, batch.partition)
        count += batch.count
        touched.add(batch.partition)
      }
      if (row.retention_ms !== null || row.retention_bytes !== null) for (const partition of touched) deleteExpired(s, row, partition, Date.now())
      for (const list of written.values()) if (list.batches.length >= SEGMENT_BATCHES) this.writeSegments(list.topicId, list.partition, list.batches.splice(0))
      if (options.commit) this.writeOffsets(options.commit.group, options.commit.offsets)
      if (options.cursor) this.cursorStore().write(options.cursor)
      return {count, created}
    })
    for (const [key, list] of written) this.pendingKeys.set(key, list)
    this.checkStillThere()
    await this.checkpointAfter(bytes)
    return result
  }

  /**
   * Writes the index rows of a writer's batches (inside a write transaction): each batch's batch_keys
   * row (posted, or empty when keyless) and record map, and the key postings as one segment per run of
   * keyed batches that follow on (another writer's batches or a keyless batch between two of ours end
   * a run) and span at most SEGMENT_SPAN offsets. Only for the batches still there: retention may have
   * deleted some since, `topic delete` all of them.
   */
  private writeSegments(topicId: number, partition: number, batches: readonly UnindexedBatch[]): void {
    if (batches.length === 0) return
    const index = this.s.keyIndex!
    const postings = index.postings!
    const last = batches.at(-1)!
    const present = new Set(postings.batchesIn.all(topicId, partition, batches[0]!.baseOffset, last.baseOffset + last.count))
    let run: BatchKeys[] = []
    const write = () => {
      if (run.length === 0) return
      const first = run[0]!.baseOffset
      const end = run.at(-1)!.baseOffset + run.at(-1)!.count
      for (const row of segmentRows(run)) postings.insert.run(topicId, partition, row.bucket, first, end, row.postings)
      run = []
    }
    for (const batch of batches) {
      if (!present.has(batch.baseOffset)) {
        write()
        continue
      }
      index.insert.run(topicId, partition, batch.baseOffset, batch.count, batch.keys ? POSTED : NO_KEYS)
      const keys = batch.keys
      if (!keys) continue
      index.maps!.insert.run(topicId, partition, batch.baseOffset, batch.map!)
      const previous = run.at(-1)
      if (previous && (previous.baseOffset + previous.count !== keys.baseOffset || keys.baseOffset + keys.count - run[0]!.baseOffset > SEGMENT_SPAN)) write()
      run.push(keys)
    }
    write()
  }

  /**
   * Writes what is pending of this process's index rows and key postings, at close. A failure leaves the
   * batches without rows: reads by key read them whole, exactly, so it does not fail the command that
   * wrote them.
   */
  private writePendingSegments(): void {
    if (this.pendingKeys.size === 0 || !this.db.open) return
    try {
      this.writing(`cannot index keys in ${this.location}`, () => {
        for (const list of this.pendingKeys.values()) this.writeSegments(list.topicId, list.partition, list.batches)
      })
    } catch {
      // Left pending, as above.
    }
    this.pendingKeys.clear()
  }

  /** Hands checkpoints to a thread once this process has written enough for them to matter (checkpointer.ts). */
  private async checkpointAfter(bytes: number): Promise<void> {
    this.appendedBytes += bytes
    if (this.checkpointer?.failed) {
      const failed = this.checkpointer
      this.checkpointer = undefined
      this.db.pragma(`wal_autocheckpoint = ${DEFAULT_WAL_AUTOCHECKPOINT}`)
      await failed.close()
      return
    }
    if (this.checkpointer) return this.checkpointer.appended(bytes)
    if (this.appendedBytes < CHECKPOINT_WORKER_AFTER_BYTES || this.file.absent) return
    try {
      this.checkpointFd ??= openSync(this.location, 'r+')
    } catch {
      // Without it the writer checkpoints in its commits, as SQLite does by default.
      return
    }
    this.checkpointer = new Checkpointer(this.location, this.db.pragma('synchronous', {simple: true}) as number, this.busyTimeoutMs, this.checkpointFd)
    this.db.pragma('wal_autocheckpoint = 0')
  }

  /**
   * SQLite goes on writing to a store file that was removed (rm spool.db*), and those writes vanish with
   * it: a writer notices after each commit and fails instead of reporting records as stored.
   */
  private checkStillThere(following = false): void {
    const was = this.file.identity
    if (!was) return
    let now: {dev: number; ino: number} | undefined
    try {
      now = statSync(this.location)
    } catch {
      now = undefined
    }
    if (!now || now.ino !== was.ino || now.dev !== was.dev)
      throw new StoreGoneError(
        following
          ? `store ${this.location} was removed while spool was following it`
          : `store ${this.location} was removed while spool was writing to it; what was written to it since is gone`,
        following ? {hint: 'a store made since at the same path is another store: read it anew'} : {},
      )
  }

  async offsetForTime(topic: string, partition: number, timestamp: number): Promise<number> {
    return this.reading(`cannot read topic '${topic}' in ${this.location}`, () => {
      const row = this.requireTopic(topic)
      const part = this.s.partition.get(row.id, partition)
      if (!part) return 0
      const start = retained(this.s, row, part, Date.now()).start
      const found = this.s.firstBatchAtTime.get(row.id, partition, start, timestamp)
      if (!found) return part.next_offset
      const batch = verifiedBatch(found, topic, partition, this.location)
      return found.base_offset + batch.indexAtOrAfterTime(timestamp)
    })
  }

  async batchSummaries(assignment: Assignment & {until: number}): Promise<BatchSummary[]> {
    const {topic, partition} = assignment
    return this.reading(`cannot read topic '${topic}' in ${this.location}`, () => {
      const row = this.requireTopic(topic)
      const part = this.s.partition.get(row.id, partition)
      if (!part) throw new SpoolError(`topic '${topic}' has no partition ${partition}`)
      // As read() does: records retention has made unreadable are not counted, deleted or not.
      const from = Math.max(assignment.from, retained(this.s, row, part, Date.now()).start)
      if (from >= assignment.until) return []
      const containing = this.s.containingBatch.get(row.id, partition, from)
      const lower = containing && containing.base_offset + containing.record_count > from ? containing.base_offset : from
      return this.s.batchSummaries.all(row.id, partition, lower, assignment.until).map((b) => ({
        baseOffset: b.base_offset,
        count: b.record_count,
        minTimestamp: b.min_timestamp,
        maxTimestamp: b.max_timestamp,
      }))
    })
  }

  async *read(assignments: Assignment[], options: ReadOptions): AsyncIterable<RecordBatch> {
    const {signal} = options
    const now = Date.now()
    const cursorOf = (a: Assignment, now: number): Cursor => {
      const row = this.requireTopic(a.topic)
      const part = this.s.partition.get(row.id, a.partition)
      if (!part) throw new SpoolError(`topic '${a.topic}' has no partition ${a.partition}`)
      // Records retention has made unreadable are not served, deleted or not.
      const from = Math.max(a.from, retained(this.s, row, part, now).start)
      return {...a, topicId: row.id, from, next: from, batchEnd: undefined, done: a.until !== undefined && from >= a.until}
    }
    const cursors: Cursor[] = assignments.map((a) => cursorOf(a, now))
    const follow = options.follow ?? false
    const growth = new PartitionGrowth(options)
    let grownAt = Date.now()
    /** Cursors for the partitions added to followed whole topics since the read began (or last looked). */
    const addPartitions = (): boolean => {
      grownAt = Date.now()
      const added = growth.added((topic) => this.s.topicByName.get(topic)?.partitions)
      for (const assignment of added) cursors.push(cursorOf(assignment, grownAt))
      return added.length > 0
    }
    if (follow) this.changeWatch ??= new StoreChangeWatch(this.location)
    // Idle followers sleep until an event (or the fallback poll); right after an event they recheck soon.
    let recheck = RECHECK_DELAYS_MS.length
    let lastTurn = Date.now()
    while (!signal.aborted) {
      const since = this.changeWatch?.version ?? 0
      let progressed = false
      for (const cursor of cursors) {
        if (cursor.done || signal.aborted) continue
        if (Date.now() - lastTurn >= EVENT_LOOP_TURN_MS) {
          await nextTurn()
          lastTurn = Date.now()
          if (signal.aborted) return
        }
        const before = cursor.next
        const {batches, damage} = this.reading(`cannot read topic '${cursor.topic}' in ${this.location}`, () =>
          options.keys ? this.fetchKeyed(cursor, options.keys, options.onScanned) : this.fetch(cursor),
        )
        // A read by key may pass batches without a record to hand out: moving on is progress too.
        if (cursor.next !== before) progressed = true
        for (const batch of batches) {
          progressed = true
          yield batch
          if (signal.aborted) return
        }
        if (damage) throw damage
      }
      if (cursors.every((c) => c.done)) return
      // Partitions added to a followed topic are looked for when the read has caught up, and at least
      // once a second while it has not.
      if (progressed && (!growth.watching || Date.now() - grownAt < GROWTH_CHECK_MS)) continue
      if (!follow) return
      let grown = false
      this.reading(`cannot read store ${this.location}`, () => {
        // A follower of a removed file would wait on it for ever, blind to a new store at its path.
        this.checkStillThere(true)
        for (const cursor of cursors) if (!this.s.topicById.get(cursor.topicId)) throw new SpoolError(`topic '${cursor.topic}' was deleted`)
        grown = addPartitions()
      })
      if (grown || progressed) continue
      const delay = recheck < RECHECK_DELAYS_MS.length ? RECHECK_DELAYS_MS[recheck++] : undefined
      if (await this.changeWatch!.next(signal, since, delay)) recheck = 0
    }
  }

  /**
   * The next batches of a cursor, each verified (checksum, structure, offsets following on). A damaged
   * batch ends the fetch: the batches before it are returned with the damage, to be thrown after them.
   */
  private fetch(cursor: Cursor): BatchCheck {
    const s = this.s
    // The first fetch starts at the batch holding the first offset wanted, which may begin before it.
    let from = cursor.batchEnd ?? cursor.next
    if (cursor.batchEnd === undefined) {
      const containing = s.containingBatch.get(cursor.topicId, cursor.partition, cursor.next)
      if (containing && containing.base_offset + containing.record_count > cursor.next) from = containing.base_offset
    }
    const rows = s.batchesFrom.all(cursor.topicId, cursor.partition, from, BATCHES_PER_FETCH)
    const checked = checkRows(rows, {...cursor, location: this.location})
    cursor.next = checked.next
    cursor.batchEnd = checked.batchEnd
    if (cursor.until !== undefined && cursor.next >= cursor.until) cursor.done = true
    // A bounded read that runs out of batches before its end, where the partition says there are
    // records, is missing them.
    if (!checked.damage && rows.length === 0 && cursor.until !== undefined && !cursor.done) {
      const end = Math.min(cursor.until, s.partition.get(cursor.topicId, cursor.partition)?.next_offset ?? 0)
      if (cursor.next < end) checked.damage = missingRecords({...cursor, location: this.location}, cursor.next, end)
      cursor.done = true
    }
    return checked
  }

  /**
   * The next records of a cursor with one of the keys, found through the key index: its rows are walked
   * in one read transaction (a snapshot, so the batches they name are still there) and only the batches
   * the index names are read (through their record maps, or whole), verified as any read verifies them,
   * and filtered by the exact key bytes. Where the batches' index rows are all of version 8 with their
   * keys posted (or keyless), only the key postings of the keys' buckets are read; elsewhere the
   * batch_keys rows are walked, each tested by its Bloom filter, a pending batch read whole. Offsets no
   * index row covers (batches written before store version 5) are read and filtered, so the index may
   * find too much but never too little.
   */
  private fetchKeyed(cursor: Cursor, keys: KeySelection, onScanned?: (records: number) => void): {batches: RecordBatch[]; damage?: StoreDamageError} {
    const index = this.s.keyIndex
    const selected = (checked: BatchCheck, start: number) => {
      onScanned?.(cursor.next - start)
      return {batches: checked.batches.map((b) => keys.select(b)).filter((b) => b !== undefined), damage: checked.damage}
    }
    const start = cursor.next
    // A version 4 store opened for reading has no index.
    if (!index) return selected(this.fetch(cursor), start)
    return this.db.transaction(() => {
      const {topicId, partition} = cursor
      const end = cursor.until ?? this.s.partition.get(topicId, partition)?.next_offset ?? 0
      if (start >= end) {
        if (cursor.until !== undefined) cursor.done = true
        return {batches: []}
      }
      const holding = index.rowAt.get(topicId, partition, start)
      const from = holding && holding.base_offset + holding.record_count > start ? holding.base_offset : start
      const posted = this.postedUntil(cursor, from, end)
      if (posted > start) return this.fetchPosted(cursor, keys, posted, end, onScanned)
      // Iterated, not fetched whole: the walk stops at BATCHES_PER_FETCH candidates, and SQLite tests no
      // filter beyond it (a key found in many batches walks the rows in many fetches).
      const rows = index.candidatesFrom(keys.hashes.length).iterate({...candidateProbes(keys.hashes), topic: topicId, partition, from, limit: KEY_ROWS_PER_FETCH})
      const first = rows.next()
      if (first.done || first.value.base_offset > start) {
        rows.return?.()
        // Offsets without index rows, up to the next row: read as an unfiltered read would, then filtered.
        const gap = {...cursor, until: Math.min(end, first.done ? end : first.value.base_offset), done: false}
        const checked = this.fetch(gap)
        cursor.next = gap.next
        cursor.batchEnd = gap.batchEnd
        if (cursor.until !== undefined && cursor.next >= cursor.until) cursor.done = true
        return selected(checked, start)
      }
      let next = start
      const possible: KeyCandidateRow[] = []
      for (let row: KeyCandidateRow | undefined = first.value; row; row = rows.next().value as KeyCandidateRow | undefined) {
        // A gap in the rows is read (and filtered) by the next fetch; so are posted batches after the
        // first row, through their postings.
        if (row.base_offset >= end || row.base_offset > next || (row.maybe === 2 && row.base_offset > start)) break
        if (row.maybe !== 0) possible.push(row)
        next = Math.min(end, row.base_offset + row.record_count)
        if (possible.length >= BATCHES_PER_FETCH) break
      }
      rows.return?.()
      // A filter SQLite could not test (another number of probes) is tested here, once the walk is over.
      // A batch of version 8 met here (pending, or posted where the rows have a gap) is read whole.
      const candidates: Candidate[] = possible
        .filter((row) => row.maybe !== null || mayHoldKey(index.filterAt.get(topicId, partition, row.base_offset)!.filter, keys.hashes))
        .map((row) => (row.maybe === 2 || row.maybe === 3 ? {...row, map: null} : row))
      return this.readCandidates(cursor, candidates, start, end, next, keys, onScanned)
    })()
  }

  /**
   * Up to where, from `from`, the index rows follow on and are all of version 8 with their keys posted
   * (or without keys), so that the key postings alone name every record of a key there; `from` when
   * they do not. Remembered on the cursor: a read that takes many fetches sums the rows once.
   */
  private postedUntil(cursor: Cursor, from: number, end: number): number {
    const postings = this.s.keyIndex!.postings
    if (!postings) return from
    if (cursor.postedUntil !== undefined && cursor.postedUntil > from) return Math.min(cursor.postedUntil, end)
    const run = postings.postedRun.get({topic: cursor.topicId, partition: cursor.partition, from, end})!
    const posted = Math.min(run.stop ?? run.last ?? from, end)
    if (posted <= from) return from
    cursor.postedUntil = posted
    return cursor.postedUntil
  }

  /**
   * The next records of a read by key where the batches' keys are posted, up to `posted`: the key
   * postings of the keys' buckets name the records (key-postings.ts), and their batches are read
   * through their record maps.
   */
  private fetchPosted(cursor: Cursor, keys: KeySelection, posted: number, end: number, onScanned?: (records: number) => void): {batches: RecordBatch[]; damage?: StoreDamageError} {
    const {topicId, partition} = cursor
    const index = this.s.keyIndex!
    const start = cursor.next
    const {shape, params} = segmentParams(keys.hashes)
    const hits = index.postings!.walk(shape).all({...params, topic: topicId, partition, from: start, to: posted, limit: SEGMENTS_PER_FETCH})
    // A bucket walk that stopped at its limit has answered only up to its last segment's end.
    let boundary = posted
    for (let walk = 0; walk < shape.length; walk++) {
      const mine = hits.filter((hit) => hit.walk === walk)
      if (mine.length === SEGMENTS_PER_FETCH) boundary = Math.min(boundary, mine.at(-1)!.end_offset)
    }
    let offsets: number[] = []
    for (const hit of hits) {
      try {
        offsets = offsets.concat(postedOffsets(hit.postings, hit.first_offset, keys.hashes, start, boundary, hit.end_offset))
      } catch (error) {
        if (!(error instanceof BatchDamage)) throw error
        const damage = {topic: cursor.topic, partition, from: hit.first_offset, to: hit.end_offset - 1, reason: `the key index cannot be read (${error.message})`}
        return {batches: [], damage: new StoreDamageError(damage, this.location)}
      }
    }
    // Several buckets' walks: back to offset order (one bucket's rows are in order, and disjoint).
    if (shape.length > 1) offsets = [...new Set(offsets)].sort((a, b) => a - b)
    const candidates: Candidate[] = []
    let next = boundary
    for (const offset of offsets) {
      const last = candidates.at(-1)
      if (last && offset < last.base_offset + last.record_count) {
        last.indexes!.push(offset - last.base_offset)
        continue
      }
      const batch = index.postings!.batchHolding.get(topicId, partition, offset)
      if (!batch || offset >= batch.base_offset + batch.record_count) {
        const damage = {topic: cursor.topic, partition, from: offset, to: offset, reason: 'the key postings name an offset no batch holds'}
        return {batches: [], damage: new StoreDamageError(damage, this.location)}
      }
      if (candidates.length === POSTED_BATCHES_PER_FETCH) {
        next = batch.base_offset
        break
      }
      candidates.push({base_offset: batch.base_offset, record_count: batch.record_count, indexes: [offset - batch.base_offset], map: batch.map})
    }
    return this.readCandidates(cursor, candidates, start, end, next, keys, onScanned)
  }

  /**
   * Reads the candidate batches of a read by key, from `start` to `end`, and moves the cursor to `next`
   * (where the index rows looked at end). A batch is read through its record map when it has one, else
   * whole; `indexes`, from key postings, name its records, else its map's key hashes do.
   */
  private readCandidates(
    cursor: Cursor,
    candidates: readonly Candidate[],
    start: number,
    end: number,
    next: number,
    keys: KeySelection,
    onScanned?: (records: number) => void,
  ): {batches: RecordBatch[]; damage?: StoreDamageError} {
    const index = this.s.keyIndex!
    const {topicId, partition} = cursor
    const batches: RecordBatch[] = []
    const where = {topic: cursor.topic, partition, location: this.location}
    // Several batches' chunks to check: the native checksum from the first (key-map.ts).
    if (candidates.length > 1) manyChunksAhead()
    for (const row of candidates) {
      const window = {first: Math.max(0, start - row.base_offset), end: Math.min(row.record_count, end - row.base_offset)}
      const map = row.map !== undefined ? row.map : index.maps?.at.get(topicId, partition, row.base_offset)?.map
      if (map) {
        try {
          const records = this.readThroughMap(cursor.topic, topicId, partition, row, map, window, keys, row.indexes)
          if (records === undefined) return {batches, damage: missingRecords(where, row.base_offset, row.base_offset + row.record_count)}
          if (records.length > 0) batches.push(new ArrayRecordBatch(cursor.topic, partition, records))
        } catch (error) {
          if (!(error instanceof BatchDamage || error instanceof RangeError)) throw error
          const reason = error instanceof MapChecksumDamage ? error.message : `the batch cannot be read (${error.message})`
          const damage = {topic: cursor.topic, partition, from: row.base_offset, to: row.base_offset + Math.max(row.record_count, 1) - 1, reason}
          return {batches, damage: new StoreDamageError(damage, this.location)}
        }
        continue
      }
      const stored = index.batchAt.get(topicId, partition, row.base_offset)
      if (!stored || stored.record_count !== row.record_count)
        return {batches, damage: missingRecords(where, row.base_offset, row.base_offset + row.record_count)}
      try {
        const batch = verifiedBatch(stored, cursor.topic, partition, this.location, window.first, window.end)
        const picked = keys.select(batch)
        if (picked) batches.push(picked)
      } catch (error) {
        if (error instanceof StoreDamageError) return {batches, damage: error}
        throw error
      }
    }
    onScanned?.(next - start)
    cursor.next = next
    cursor.batchEnd = next
    if (cursor.until !== undefined && next >= cursor.until) cursor.done = true
    return {batches}
  }

  /**
   * The records of `keys` in a candidate batch, read through its record map (key-map.ts): the key
   * postings (`posted`) or the map's key hashes name the records that may hold a key, and only the
   * chunks holding those records' group are read (SQL substr, in one statement) and checked against
   * their checksums. A batch the Bloom filter named by mistake reads no blob at all. Undefined when the
   * batch row is gone or has another count.
   */
  private readThroughMap(
    topic: string,
    topicId: number,
    partition: number,
    row: {base_offset: number; record_count: number},
    raw: Buffer,
    window: {first: number; end: number},
    keys: KeySelection,
    posted?: readonly number[],
  ): FeedRecord[] | undefined {
    const map = parseKeyMap(raw, row.record_count)
    const indexes = posted ? posted.filter((i) => i >= window.first && i < window.end) : indexesWithHash(map, keys.hashes, window.first, window.end)
    if (indexes.length === 0) return []
    const runs = chunkRuns(map, indexes)
    const params: Record<string, number> = {topic: topicId, partition, base: row.base_offset}
    runs.forEach(([from, to], r) => {
      params[`s${r}`] = from + 1
      params[`l${r}`] = to - from
    })
    const parts = this.s.keyIndex!.maps!.partsOf(runs.length).get(params)
    if (!parts || parts.record_count !== row.record_count) return undefined
    if (parts.size !== map.blobLength) throw new BatchDamage(`it holds ${parts.size} bytes where its key map says ${map.blobLength}`)
    const bytes = runs.map((_, r) => parts[`p${r}`])
    return recordsFromRuns(map, runs, bytes, indexes, keys.keys, {topic, partition, baseOffset: row.base_offset})
  }

  sameStoreAs(other: Backend): boolean {
    return other instanceof LocalBackend && other.location === this.location
  }

  async listGroups(): Promise<string[]> {
    return this.reading(`cannot read store ${this.location}`, () => this.s.groupNames.all().map((row) => row.group_name))
  }

  async groupOffsets(group: string): Promise<GroupOffset[]> {
    return this.reading(`cannot read store ${this.location}`, () =>
      this.s.groupOffsets.all(group).map((row) => ({topic: row.topic, partition: row.partition, offset: row.committed})),
    )
  }

  async commitOffsets(group: string, offsets: GroupOffset[]): Promise<void> {
    if (offsets.length === 0) return
    this.writing(`cannot commit the offsets of group '${group}' in ${this.location}`, () => this.writeOffsets(group, offsets))
  }

  private writeOffsets(group: string, offsets: GroupOffset[]): void {
    const now = Date.now()
    for (const {topic, partition, offset, readFrom} of offsets) {
      const topicId = this.requireTopic(topic).id
      const committed = readFrom === undefined ? undefined : this.s.groupOffsetAt.get(group, topicId, partition)?.committed
      // Inside the writer's transaction: a copy's records roll back with it (pipe between topics of one store).
      if (committed !== undefined && committed > readFrom!)
        throw new SpoolError(`another reader with group '${group}' has already read ${topic}/${partition} past offset ${readFrom} in ${this.location}`, {
          hint: 'run one reader per group: two with one group each read every record',
        })
      this.s.upsertGroupOffset.run(group, topicId, partition, offset, now)
    }
  }

  async deleteGroup(group: string): Promise<void> {
    const deleted = this.writing(`cannot delete group '${group}' from ${this.location}`, () => this.s.deleteGroup.run(group).changes)
    if (deleted === 0) throw new UnknownGroupError(group, this.location)
  }

  /** Every batch of every topic, checked as a read checks it, and SQLite's own check of the file. */
  check(): StoreCheck {
    // Read-only, a missing (or 0-byte) file reads as an empty store: checked, it would pass for a healthy one.
    if (this.file.absent) throw new SpoolError(`there is no store at ${this.location}`, {hint: 'check the path given with -b file:PATH, or SPOOL_HOME'})
    return this.reading(`cannot check store ${this.location}`, () => checkStore(this.db, this.s, this.location))
  }

  async close(): Promise<void> {
    this.changeWatch?.close()
    this.writePendingSegments()
    // The thread's connection closes first, so that this one is the last and copies what is left of the log.
    await this.checkpointer?.close()
    if (this.db.open) this.db.close()
    // Not before: closing a descriptor of the file drops the process's locks on it, SQLite's too.
    if (this.checkpointFd !== undefined) closeSync(this.checkpointFd)
    this.checkpointFd = undefined
  }
}

/** The topic configs the local store has, by their Kafka names. */
const LOCAL_CONFIGS = ['retention.ms', 'retention.bytes']

/** Retention from the flags and from -c retention.ms=/retention.bytes=; any other config name is refused. */
function localRetention(changes: TopicChanges): {retentionMs?: number; retentionBytes?: number} {
  let {retentionMs, retentionBytes} = changes
  for (const [name, value] of Object.entries(changes.configs ?? {})) {
    if (!LOCAL_CONFIGS.includes(name))
      throw new UsageError(`the local store has no topic config '${name}'`, `it knows ${LOCAL_CONFIGS.join(' and ')}; other configs are Kafka's, with -b kafka://host:port`)
    if (value.trim() === String(NO_LIMIT)) {
      if (name === 'retention.ms') retentionMs = NO_LIMIT
      else retentionBytes = NO_LIMIT
      continue
    }
    if (name === 'retention.bytes' && /^0+$/.test(value)) throw new UsageError(`-c ${name}=0 would delete every record as soon as it is written`, 'give a number of bytes, or -1 for no limit')
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`-c ${name}=${value}: the value must be a whole number`, name === 'retention.ms' ? 'milliseconds, e.g. -c retention.ms=86400000 (or --retention 1d)' : 'bytes, e.g. -c retention.bytes=1073741824 (or --retention-bytes 1GiB)')
    if (name === 'retention.ms') retentionMs = Number(value)
    else retentionBytes = Number(value)
  }
  return {retentionMs, retentionBytes}
}

function checkSettings(settings: TopicSettings): void {
  if (!Number.isInteger(settings.partitions) || settings.partitions < 1 || settings.partitions > MAX_PARTITIONS)
    throw new UsageError(`partitions must be a whole number from 1 to ${MAX_PARTITIONS}, not ${settings.partitions}`)
}
