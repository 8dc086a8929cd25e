import {murmur2} from './partitioner.js'

/** A header as Kafka has it: a string name and bytes (or null). Order and duplicates are kept. */
export interface Header {
  key: string
  value: Buffer | null
}

/** One record as users think of it. Bytes are bytes: nothing is decoded until it is printed. */
export interface FeedRecord {
  topic: string
  partition: number
  offset: number
  /** Milliseconds since the epoch. */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: Header[]
}

/** Bytes a record counts against --max-record-size: key, value and header names and values. */
export function recordSize(key: Buffer | null, value: Buffer | null, headers: readonly Header[] | null): number {
  let size = (key?.length ?? 0) + (value?.length ?? 0)
  if (headers) for (const header of headers) size += Buffer.byteLength(header.key) + (header.value?.length ?? 0)
  return size
}

/**
 * Records bound for one partition, kept column by column so that a batch of plain lines costs one array
 * push per record and no object. Keys and headers arrays exist only once a record has one.
 */
export class PendingBatch {
  count = 0
  bytes = 0
  readonly values: (Buffer | null)[] = []
  readonly timestamps: number[] = []
  keys: (Buffer | null)[] | null = null
  /**
   * murmur2 of each key (0 for a null key), as the partitioner computed it, so the local store's key index
   * does not hash every key a second time; null when no record has a key.
   */
  keyHashes: number[] | null = null
  headers: (Header[] | null)[] | null = null
  /**
   * Set instead of `values` and `timestamps` when the records were added with addPacked: plain lines into
   * the local store (produce's fast path), whose bytes are copied into one buffer as they are split.
   */
  packed: PackedValues | null = null

  constructor(readonly partition: number) {}

  /**
   * Adds a keyless, headerless record whose value is bytes [start, end) of `chunk`, copied into the packed
   * buffer (taken from `storage` on the first record): a view per record would keep every input chunk a
   * batch touches alive and cost an object per record. A batch holds records added one way only.
   */
  addPacked(chunk: Buffer, start: number, end: number, timestamp: number, storage: () => PackedValues): void {
    ;(this.packed ??= storage()).append(chunk, start, end, timestamp, this.count)
    this.count++
    this.bytes += end - start
  }

  /**
   * addPacked with a key: bytes [keyStart, keyEnd) of `key` (null: none), into a layout that keeps keys
   * (Backend.packedLayout.keys: Kafka's). The value is bytes [start, end) of `chunk`.
   */
  addPackedKeyed(key: Uint8Array | null, keyStart: number, keyEnd: number, chunk: Buffer, start: number, end: number, timestamp: number, storage: () => PackedValues): void {
    ;(this.packed ??= storage()).appendKeyed(key, keyStart, keyEnd, chunk, start, end, timestamp, this.count)
    this.count++
    this.bytes += (key === null ? 0 : keyEnd - keyStart) + end - start
  }

  /** `keyHash` is murmur2(key) when the caller has it (the partitioner's), else it is computed here. */
  add(value: Buffer | null, key: Buffer | null, headers: Header[] | null, timestamp: number, size: number, keyHash?: number): void {
    if (key !== null && this.keys === null) {
      this.keys = new Array(this.count).fill(null)
      this.keyHashes = new Array(this.count).fill(0)
    }
    if (headers !== null && headers.length > 0 && this.headers === null) this.headers = new Array(this.count).fill(null)
    this.values.push(value)
    this.timestamps.push(timestamp)
    if (this.keys !== null) {
      this.keys.push(key)
      this.keyHashes!.push(key === null ? 0 : (keyHash ?? murmur2(key)))
    }
    if (this.headers !== null) this.headers.push(headers !== null && headers.length > 0 ? headers : null)
    this.count++
    this.bytes += size
  }
}

/**
 * The values of a batch back to back with their lengths and timestamps, as the local store's blob lays them
 * out (batch-codec.ts), so encoding a batch is three copies instead of one per record. Reused from batch to
 * batch (produce's pool) so that a long produce does not leave its input behind as garbage. A backend may
 * lay the bytes out its own way (Backend.packedLayout: Kafka's records section); lengths and timestamps
 * stay as here.
 */
export class PackedValues {
  used = 0
  data: Buffer
  lengths: Int32Array
  timestamps: Float64Array

  constructor(bytes: number, records: number) {
    this.data = Buffer.allocUnsafeSlow(bytes)
    this.lengths = new Int32Array(records)
    this.timestamps = new Float64Array(records)
  }

  /**
   * Record `index` (the next one) with a key, bytes [keyStart, keyEnd) of `key` (null: none): only in a
   * backend's layout that keeps keys (Backend.packedLayout.keys); the local store's keeps values only.
   */
  appendKeyed(_key: Uint8Array | null, _keyStart: number, _keyEnd: number, _value: Uint8Array, _start: number, _end: number, _timestamp: number, _index: number): void {
    throw new Error('this layout keeps no keys')
  }

  /**
   * Copies in the bytes appended so far that a layout has kept to copy later, as runs (the local store's):
   * an appender calls it before the chunks it appended from change or go, and a reader before it reads
   * `data`. Nothing to do here: append copies at once.
   */
  settle(): void {}

  /** Copies bytes [start, end) of `chunk` in as record `index` (the next one); a layout may wait for settle(). */
  append(chunk: Buffer, start: number, end: number, timestamp: number, index: number): void {
    const length = end - start
    if (index === this.lengths.length) this.growRecords()
    if (this.used + length > this.data.length) this.growBytes(length)
    // A plain Uint8Array view and set(): Buffer.copy checks its arguments in JavaScript first, which
    // measured about half again as slow per 100-byte line.
    this.data.set(new Uint8Array(chunk.buffer, chunk.byteOffset + start, length), this.used)
    this.used += length
    this.lengths[index] = length
    this.timestamps[index] = timestamp
  }

  growRecords(): void {
    const lengths = new Int32Array(this.lengths.length * 2)
    lengths.set(this.lengths)
    this.lengths = lengths
    const timestamps = new Float64Array(this.timestamps.length * 2)
    timestamps.set(this.timestamps)
    this.timestamps = timestamps
  }

  growBytes(atLeast: number): void {
    const data = Buffer.allocUnsafeSlow(Math.max(this.data.length * 2, this.used + atLeast))
    this.data.copy(data, 0, 0, this.used)
    this.data = data
  }

  /** The value bytes, back to back. */
  get bytes(): Buffer {
    return this.data.subarray(0, this.used)
  }
}

/**
 * Records read from one partition, contiguous in offset. Accessors instead of objects keep the default
 * output path free of per-record allocation; a batch is valid until the reader moves on.
 */
export interface RecordBatch {
  readonly topic: string
  readonly partition: number
  readonly count: number
  offsetAt(index: number): number
  timestampAt(index: number): number
  keyAt(index: number): Buffer | null
  valueAt(index: number): Buffer | null
  headersAt(index: number): Header[]
  /** Copies the value into target at position; returns the bytes copied, or -1 for a null value. */
  copyValue(index: number, target: Buffer, position: number): number
  valueLength(index: number): number
  /**
   * Optional, for batches whose values were decoded into one buffer (--decode): the values of [start,
   * end), each followed by a newline, as one buffer; undefined when some value is not there. One write
   * per batch is far faster than one per record.
   */
  valueLines?(start: number, end: number): Buffer | undefined
  /**
   * Optional, for batches that hold their values in one buffer (the local store's): where the value at
   * index lies, without a Buffer view per record. Fills `into` and returns true; false for a null value.
   */
  valueBytes?(index: number, into: ByteRange): boolean
  /**
   * Optional: whether the key at index is exactly `key`, compared where it lies, without a Buffer view
   * per record (a read by key compares every key of the batches it decodes).
   */
  keyEquals?(index: number, key: Uint8Array): boolean
  /**
   * Optional: the indexes, ascending, of the records whose key is exactly one of `keys`, found by
   * searching the batch's key bytes for each key instead of comparing record by record.
   */
  indexesWithKey?(keys: readonly Uint8Array[]): number[]
  /**
   * Optional, for batches that keep a column's bytes back to back in one buffer (the local store's): the
   * buffer with each record's start and length (-1 for null), record `index` of the batch at
   * [first + index]. Writers walk it directly instead of calling an accessor per record. The key column
   * is undefined when no record of the batch has a key.
   */
  valueColumn?(): ByteColumn
  keyColumn?(): ByteColumn | undefined
  /**
   * Optional: the reader is done with the batch and nothing refers to its bytes any more: its memory is
   * given back now rather than at the next garbage collection. Nothing of the batch may be read after.
   */
  release?(): void
}

/** A column of byte strings in one buffer (see RecordBatch.valueColumn). */
export interface ByteColumn {
  buf: Buffer
  starts: Int32Array
  lengths: Int32Array
  first: number
  /**
   * The byte that follows every value in `buf`, outside it, where there is one (the local store's plain
   * lines: a newline): the values and their separators then lie as one run.
   */
  separator?: number
}

/** Bytes [start, end) of buf. */
export interface ByteRange {
  buf: Buffer
  start: number
  end: number
}

export function recordAt(batch: RecordBatch, index: number): FeedRecord {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: batch.offsetAt(index),
    timestamp: batch.timestampAt(index),
    key: batch.keyAt(index),
    value: batch.valueAt(index),
    headers: batch.headersAt(index),
  }
}

/** A RecordBatch over plain record objects: for backends that decode record by record. */
export class ArrayRecordBatch implements RecordBatch {
  constructor(readonly topic: string, readonly partition: number, private readonly records: readonly FeedRecord[]) {}
  get count() {
    return this.records.length
  }
  offsetAt(i: number) {
    return this.records[i]!.offset
  }
  timestampAt(i: number) {
    return this.records[i]!.timestamp
  }
  keyAt(i: number) {
    return this.records[i]!.key
  }
  valueAt(i: number) {
    return this.records[i]!.value
  }
  headersAt(i: number) {
    return this.records[i]!.headers
  }
  valueLength(i: number) {
    return this.records[i]!.value?.length ?? -1
  }
  copyValue(i: number, target: Buffer, position: number) {
    const value = this.records[i]!.value
    return value === null ? -1 : value.copy(target, position)
  }
}

/** The index of the first of a batch's first `count` records stamped at or after `time`; `count` when none is. */
export function firstStampedFrom(batch: RecordBatch, time: number, count: number): number {
  for (let i = 0; i < count; i++) if (batch.timestampAt(i) >= time) return i
  return count
}
