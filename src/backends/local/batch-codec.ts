import {type ByteColumn, type ByteRange, type Header, PackedValues, type PendingBatch, type RecordBatch} from '../../core/record.js'

/**
 * How the local store keeps records: one SQLite row per batch, the batch's records packed column by
 * column in one blob. Values sit back to back, so the default output copies byte ranges instead of
 * materialising records.
 *
 *   u8 version (1) | u8 flags (1 keys, 2 headers) | u16 0 | u32 count
 *   f64 timestamp[count]
 *   i32 valueLength[count]                (-1 for a null value)
 *   i32 keyLength[count]     if flags & 1 (-1 for a null key)
 *   i32 headerBytes[count]   if flags & 2
 *   values | keys | headers, where a record's headers are: u32 n, then n times
 *            u32 nameLength, name (UTF-8), i32 valueLength (-1 null), value
 *
 * With flags & 4 (store version 9 on: produce's plain lines), every value, null ones too, is followed by
 * a newline byte in the values column, outside the value: the column is then the default output itself,
 * copied in runs of records instead of record by record (writeColumn in src/io/record-writers.ts).
 */
const VERSION = 1
const HAS_KEYS = 1
const HAS_HEADERS = 2
const NEWLINE_SEPARATED = 4
const NEWLINE = 0x0a
const FIXED = 8
/** Bytes before a batch's timestamps: version, flags and record count. */
export const BATCH_HEADER_BYTES = FIXED
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * A length column of the blob as 32-bit integers: a view of the blob where it lies aligned (always, for
 * a blob of its own, on a little-endian machine), else a copy. Reading each length with readInt32LE was
 * a tenth of a read by key.
 */
export function lengthColumn(blob: Buffer, at: number, count: number): Int32Array {
  if (LITTLE_ENDIAN && (blob.byteOffset + at) % 4 === 0) return new Int32Array(blob.buffer, blob.byteOffset + at, count)
  const column = new Int32Array(count)
  for (let i = 0; i < count; i++) column[i] = blob.readInt32LE(at + i * 4)
  return column
}

/**
 * Encodes into `scratch` when it is big enough and returns a view of it, so a long produce reuses one
 * buffer instead of leaving a megabyte of garbage per batch (SQLite copies a blob when it is bound).
 */
export function encodeBatch(batch: PendingBatch, scratch?: Buffer): Buffer {
  if (batch.packed) return encodePacked(batch.count, batch.packed, scratch)
  const n = batch.count
  const {values, keys} = batch
  const headerBlobs = batch.headers ? batch.headers.map(encodeHeaders) : null
  let valueBytes = 0
  for (let i = 0; i < n; i++) valueBytes += values[i]?.length ?? 0
  let keyBytes = 0
  if (keys) for (let i = 0; i < n; i++) keyBytes += keys[i]?.length ?? 0
  let headerBytes = 0
  if (headerBlobs) for (let i = 0; i < n; i++) headerBytes += headerBlobs[i]!.length
  const columns = 1 + (keys ? 1 : 0) + (headerBlobs ? 1 : 0)
  const size = FIXED + n * 8 + n * 4 * columns + valueBytes + keyBytes + headerBytes
  const out = scratch && scratch.length >= size ? scratch.subarray(0, size) : Buffer.allocUnsafe(size)
  out.writeUInt8(VERSION, 0)
  out.writeUInt8((keys ? HAS_KEYS : 0) | (headerBlobs ? HAS_HEADERS : 0), 1)
  out.writeUInt16LE(0, 2)
  out.writeUInt32LE(n, 4)
  let at = FIXED
  const ts = batch.timestamps
  for (let i = 0; i < n; i++, at += 8) out.writeDoubleLE(ts[i]!, at)
  for (let i = 0; i < n; i++, at += 4) out.writeInt32LE(values[i]?.length ?? -1, at)
  if (keys) for (let i = 0; i < n; i++, at += 4) out.writeInt32LE(keys[i]?.length ?? -1, at)
  if (headerBlobs) for (let i = 0; i < n; i++, at += 4) out.writeInt32LE(headerBlobs[i]!.length, at)
  for (let i = 0; i < n; i++) {
    const value = values[i]
    if (value) at += value.copy(out, at)
  }
  if (keys)
    for (let i = 0; i < n; i++) {
      const key = keys[i]
      if (key) at += key.copy(out, at)
    }
  if (headerBlobs) for (let i = 0; i < n; i++) at += headerBlobs[i]!.copy(out, at)
  return out
}

/**
 * Plain values as the local store lays them out (Backend.packedLayout): each followed by a newline, so
 * the values column is the default output as it stands (NEWLINE_SEPARATED).
 */
export class NewlineSeparatedValues extends PackedValues {
  /**
   * The lines appended since the last settle(), not copied yet: bytes [runStart, runEnd) of runChunk, the
   * lines of a chunk that follow one another with a newline between each two, as the layout has them;
   * their place is reserved at runAt. One copy per run instead of one per line (a tenth of a produce's
   * CPU was the copy of each 100-byte line).
   */
  private runChunk: Buffer | undefined
  private runStart = 0
  private runEnd = 0
  private runAt = 0

  override append(chunk: Buffer, start: number, end: number, timestamp: number, index: number): void {
    const length = end - start
    if (index === this.lengths.length) this.growRecords()
    if (chunk === this.runChunk && start === this.runEnd + 1 && chunk[this.runEnd] === NEWLINE) this.runEnd = end
    else {
      this.settle()
      this.runChunk = chunk
      this.runStart = start
      this.runEnd = end
      this.runAt = this.used
    }
    // Grown, the buffer keeps the run's place: the run is copied into whichever buffer is there at settle().
    if (this.used + length + 1 > this.data.length) this.growBytes(length + 1)
    this.used += length + 1
    this.lengths[index] = length
    this.timestamps[index] = timestamp
  }

  override settle(): void {
    const chunk = this.runChunk
    if (chunk === undefined) return
    const length = this.runEnd - this.runStart
    this.data.set(new Uint8Array(chunk.buffer, chunk.byteOffset + this.runStart, length), this.runAt)
    this.data[this.runAt + length] = NEWLINE
    this.runChunk = undefined
  }
}

/** A batch of plain values already laid out as the blob's columns: three copies. */
function encodePacked(n: number, packed: PackedValues, scratch?: Buffer): Buffer {
  packed.settle()
  const size = FIXED + n * 12 + packed.used
  const out = scratch && scratch.length >= size ? scratch.subarray(0, size) : Buffer.allocUnsafe(size)
  out.writeUInt8(VERSION, 0)
  out.writeUInt8(packed instanceof NewlineSeparatedValues ? NEWLINE_SEPARATED : 0, 1)
  out.writeUInt16LE(0, 2)
  out.writeUInt32LE(n, 4)
  let at = FIXED
  if (LITTLE_ENDIAN) {
    at += Buffer.from(packed.timestamps.buffer, packed.timestamps.byteOffset, n * 8).copy(out, at)
    at += Buffer.from(packed.lengths.buffer, packed.lengths.byteOffset, n * 4).copy(out, at)
  } else {
    for (let i = 0; i < n; i++, at += 8) out.writeDoubleLE(packed.timestamps[i]!, at)
    for (let i = 0; i < n; i++, at += 4) out.writeInt32LE(packed.lengths[i]!, at)
  }
  packed.data.copy(out, at, 0, packed.used)
  return out
}

const EMPTY = Buffer.alloc(0)

function encodeHeaders(headers: Header[] | null): Buffer {
  if (!headers || headers.length === 0) return EMPTY
  const names = headers.map((h) => Buffer.from(h.key, 'utf8'))
  let size = 4
  for (let i = 0; i < headers.length; i++) size += 8 + names[i]!.length + (headers[i]!.value?.length ?? 0)
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt32LE(headers.length, 0)
  for (let i = 0; i < headers.length; i++) {
    at = out.writeUInt32LE(names[i]!.length, at)
    at += names[i]!.copy(out, at)
    const value = headers[i]!.value
    at = out.writeInt32LE(value ? value.length : -1, at)
    if (value) at += value.copy(out, at)
  }
  return out
}

export function decodeHeaders(blob: Buffer, start: number, end: number): Header[] {
  if (end <= start) return []
  const damaged = () => new BatchDamage("a record's headers do not fit in their bytes")
  const count = blob.readUInt32LE(start)
  const headers: Header[] = new Array(count)
  let at = start + 4
  for (let i = 0; i < count; i++) {
    if (at + 4 > end) throw damaged()
    const nameLength = blob.readUInt32LE(at)
    at += 4
    if (at + nameLength + 4 > end) throw damaged()
    const key = blob.toString('utf8', at, at + nameLength)
    at += nameLength
    const valueLength = blob.readInt32LE(at)
    at += 4
    let value: Buffer | null = null
    if (valueLength >= 0) {
      if (at + valueLength > end) throw damaged()
      value = Buffer.from(blob.subarray(at, at + valueLength))
      at += valueLength
    }
    headers[i] = {key, value}
  }
  return headers
}

/** Where an encoded batch's columns start: its length columns, then its data (values, keys, headers). */
export function batchLayout(blob: Buffer): {count: number; flags: number; lengthsStart: number; dataStart: number} {
  const count = blob.readUInt32LE(4)
  const flags = blob.readUInt8(1)
  const lengthsStart = FIXED + count * 8
  const columns = 1 + (flags & HAS_KEYS ? 1 : 0) + (flags & HAS_HEADERS ? 1 : 0)
  return {count, flags, lengthsStart, dataStart: lengthsStart + count * 4 * columns}
}

/** Minimum and maximum record timestamp of an encoded batch, read without decoding the rest. */
export function timestampBounds(batch: PendingBatch): {min: number; max: number} {
  let min = Infinity
  let max = -Infinity
  if (batch.packed) {
    const ts = batch.packed.timestamps
    for (let i = 0; i < batch.count; i++) {
      if (ts[i]! < min) min = ts[i]!
      if (ts[i]! > max) max = ts[i]!
    }
    return {min, max}
  }
  for (const ts of batch.timestamps) {
    if (ts < min) min = ts
    if (ts > max) max = ts
  }
  return {min, max}
}

/** A stored batch whose bytes do not hold together; the reader adds where it is. */
export class BatchDamage extends Error {}

/**
 * A stored batch seen through a window [first, end) of its record indexes, so a reader that starts or
 * stops inside a batch never copies it.
 */
export class StoredBatch implements RecordBatch {
  readonly count: number
  private readonly total: number
  private readonly valueStart: Int32Array
  private readonly valueLen: Int32Array
  private keyStart: Int32Array | null = null
  private keyLen: Int32Array | null = null
  /** The key column's bytes: [keyData, keyDataEnd) of the blob. */
  private keyData = 0
  private keyDataEnd = 0
  private headerStart: Int32Array | null = null
  private headerLen: Int32Array | null = null
  /** The timestamp column where it lies 8-byte aligned (a blob of its own on a little-endian machine). */
  private readonly timestamps: Float64Array | null
  /** Each value is followed by a newline outside it (NEWLINE_SEPARATED). */
  private readonly separated: boolean

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly blob: Buffer,
    private readonly baseOffset: number,
    private readonly first = 0,
    end?: number,
  ) {
    if (blob.length < FIXED || blob.readUInt8(0) !== VERSION) throw new BatchDamage('unknown batch format')
    const total = blob.readUInt32LE(4)
    this.total = total
    const last = Math.min(end ?? total, total)
    this.count = Math.max(0, last - first)
    const flags = blob.readUInt8(1)
    let lengths = FIXED + total * 8
    let data = lengths + total * 4 * (1 + (flags & HAS_KEYS ? 1 : 0) + (flags & HAS_HEADERS ? 1 : 0))
    if ((flags & ~(HAS_KEYS | HAS_HEADERS | NEWLINE_SEPARATED)) !== 0 || data > blob.length) throw new BatchDamage('its header does not fit the data')
    this.timestamps = LITTLE_ENDIAN && (blob.byteOffset + FIXED) % 8 === 0 ? new Float64Array(blob.buffer, blob.byteOffset + FIXED, total) : null
    this.valueStart = new Int32Array(total)
    this.valueLen = lengthColumn(blob, lengths, total)
    this.separated = (flags & NEWLINE_SEPARATED) !== 0
    data = this.separated ? this.readSeparatedColumn(data, this.valueStart, this.valueLen) : this.readColumn(data, this.valueStart, this.valueLen)
    lengths += total * 4
    if (flags & HAS_KEYS) {
      this.keyStart = new Int32Array(total)
      this.keyLen = lengthColumn(blob, lengths, total)
      this.keyData = data
      data = this.readColumn(data, this.keyStart, this.keyLen)
      this.keyDataEnd = data
      lengths += total * 4
    }
    if (flags & HAS_HEADERS) {
      this.headerStart = new Int32Array(total)
      this.headerLen = lengthColumn(blob, lengths, total)
      data = this.readColumn(data, this.headerStart, this.headerLen)
    }
    // Every length read from the blob must add up to the blob exactly: a damaged length would otherwise
    // hand out other records' bytes (or bytes past the end) as a record.
    if (data !== blob.length) throw new BatchDamage('its record lengths do not add up to its size')
  }

  /** Records the batch holds in all, whatever window it is seen through. */
  get recordCount(): number {
    return this.total
  }

  /** Where each record's bytes of a column start, from the column's lengths; returns the column's end. */
  private readColumn(data: number, starts: Int32Array, lens: Int32Array): number {
    const size = this.blob.length
    for (let i = 0; i < this.total; i++) {
      const length = lens[i]!
      if (length < -1 || data + Math.max(length, 0) > size) throw new BatchDamage('a record length points past its end')
      starts[i] = data
      if (length > 0) data += length
    }
    return data
  }

  /**
   * readColumn for values each followed by a newline: the newline must be there, so that a damaged length
   * can no more shift the output than it can hand out another record's bytes.
   */
  private readSeparatedColumn(data: number, starts: Int32Array, lens: Int32Array): number {
    const blob = this.blob
    const total = this.total
    for (let i = 0; i < total; i++) {
      const length = lens[i]!
      starts[i] = data
      if (length > 0) data += length
      else if (length < -1) throw new BatchDamage('a record length points past its end')
      // Past the end, blob[data] is undefined: not a newline either, so no length reaches past the blob.
      if (blob[data] !== NEWLINE) throw new BatchDamage('a record length points past its end')
      data++
    }
    return data
  }

  offsetAt(index: number): number {
    return this.baseOffset + this.first + index
  }
  timestampAt(index: number): number {
    if (this.timestamps) return this.timestamps[this.first + index]!
    return this.blob.readDoubleLE(FIXED + (this.first + index) * 8)
  }
  valueLength(index: number): number {
    return this.valueLen[this.first + index]!
  }
  valueAt(index: number): Buffer | null {
    const i = this.first + index
    const length = this.valueLen[i]!
    return length < 0 ? null : this.blob.subarray(this.valueStart[i]!, this.valueStart[i]! + length)
  }
  valueBytes(index: number, into: ByteRange): boolean {
    const i = this.first + index
    const length = this.valueLen[i]!
    if (length < 0) return false
    into.buf = this.blob
    into.start = this.valueStart[i]!
    into.end = into.start + length
    return true
  }
  copyValue(index: number, target: Buffer, position: number): number {
    const i = this.first + index
    const length = this.valueLen[i]!
    if (length <= 0) return length
    const start = this.valueStart[i]!
    return this.blob.copy(target, position, start, start + length)
  }
  keyAt(index: number): Buffer | null {
    if (!this.keyLen) return null
    const i = this.first + index
    const length = this.keyLen[i]!
    return length < 0 ? null : this.blob.subarray(this.keyStart![i]!, this.keyStart![i]! + length)
  }
  keyEquals(index: number, key: Uint8Array): boolean {
    if (!this.keyLen) return false
    const i = this.first + index
    const length = this.keyLen[i]!
    if (length !== key.length) return false
    const start = this.keyStart![i]!
    const blob = this.blob
    // Keys that share a prefix (user-1, user-2...) differ at the end: compare from there.
    for (let j = length - 1; j >= 0; j--) if (blob[start + j] !== key[j]) return false
    return true
  }
  indexesWithKey(keys: readonly Uint8Array[]): number[] {
    const picked: number[] = []
    if (!this.keyLen) return picked
    const blob = this.blob
    const starts = this.keyStart!
    const lens = this.keyLen
    const first = this.first
    const last = first + this.count
    for (const key of keys) {
      if (key.length === 0) {
        // An empty key is found everywhere in the bytes: compare lengths instead.
        for (let i = first; i < last; i++) if (lens[i] === 0) picked.push(i - first)
        continue
      }
      // A hit is a record's key only where a key starts there and has the key's length: a key that
      // holds the wanted bytes inside it, or two keys side by side that spell them, are not it.
      let from = this.keyData
      while (from < this.keyDataEnd) {
        const at = blob.indexOf(key, from)
        if (at < 0 || at + key.length > this.keyDataEnd) break
        // The first record whose key starts at or after `at` (starts ascend; null and empty keys
        // share their start with the next key).
        let lo = 0
        let hi = this.total
        while (lo < hi) {
          const mid = (lo + hi) >>> 1
          if (starts[mid]! < at) lo = mid + 1
          else hi = mid
        }
        let matched = false
        for (let i = lo; i < this.total && starts[i] === at; i++)
          if (lens[i] === key.length) {
            if (i >= first && i < last) picked.push(i - first)
            matched = true
            break
          }
        from = matched ? at + key.length : at + 1
      }
    }
    // Records of different keys come out key by key: put them back in offset order.
    if (keys.length > 1) picked.sort((a, b) => a - b)
    return picked
  }
  valueColumn(): ByteColumn {
    return {buf: this.blob, starts: this.valueStart, lengths: this.valueLen, first: this.first, separator: this.separated ? NEWLINE : undefined}
  }
  keyColumn(): ByteColumn | undefined {
    return this.keyLen ? {buf: this.blob, starts: this.keyStart!, lengths: this.keyLen, first: this.first} : undefined
  }
  /**
   * Frees the blob at once (ArrayBuffer transfer detaches it): a reader's garbage is one blob of up to
   * ~1 MiB per batch, which the collector would otherwise let pile up to about 100 MiB before freeing it.
   * Only a blob that is a whole ArrayBuffer of its own (as SQLite's driver hands them out) is freed.
   */
  release(): void {
    const {buffer} = this.blob
    if (this.blob.byteOffset === 0 && this.blob.byteLength === buffer.byteLength && buffer.byteLength > 0)
      (buffer as ArrayBuffer & {transfer(length: number): ArrayBuffer}).transfer(0)
  }
  headersAt(index: number): Header[] {
    if (!this.headerLen) return []
    const i = this.first + index
    return decodeHeaders(this.blob, this.headerStart![i]!, this.headerStart![i]! + this.headerLen[i]!)
  }
  /** Index within the window of the first record whose timestamp is >= timestamp, or count. */
  indexAtOrAfterTime(timestamp: number): number {
    for (let i = 0; i < this.count; i++) if (this.timestampAt(i) >= timestamp) return i
    return this.count
  }
}
