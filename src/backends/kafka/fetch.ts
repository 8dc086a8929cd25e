import {compressionsAlgorithms, ResponseError} from '@platformatic/kafka'
import {crc32c} from '../../core/checksum.js'
import {SpoolError} from '../../core/errors.js'
import type {ByteColumn, Header, RecordBatch} from '../../core/record.js'
import {COMPRESSIONS} from './settings.js'

/**
 * Fetch (version 12: topic names, Kafka 2.7 and later) with the records kept as raw bytes and decoded
 * here, column-wise, without an object per record: the client library's decoder builds several objects
 * and reads every varint through a generic reader, which made consuming 2-3x slower than kcat.
 */
export interface FetchedPartition {
  partitionIndex: number
  errorCode: number
  highWatermark: number
  logStartOffset: number
  /** Transactions aborted in the fetched range (read committed): their producers' batches are left out. */
  abortedTransactions?: AbortedTransaction[]
  records?: Buffer
}

export interface AbortedTransaction {
  producerId: bigint
  firstOffset: number
}

export interface FetchedTopic {
  topic: string
  partitions: FetchedPartition[]
}

type Reader = {
  readInt8(): number
  readInt16(): number
  readInt32(): number
  readInt64(): bigint
  readString(): string
  readUnsignedVarInt(): number
  readArray<T>(fn: (r: Reader, i: number) => T): T[]
  skip(n: number): void
  position: number
  buffer: {subarray(start: number, end: number): {buffer: Buffer}}
}

export function parseFetchResponse(_correlationId: number, apiKey: number, apiVersion: number, reader: Reader): FetchedTopic[] {
  const errors: [string, [number, null]][] = []
  reader.readInt32() // throttle_time_ms
  const errorCode = reader.readInt16()
  if (errorCode !== 0) errors.push(['', [errorCode, null]])
  reader.readInt32() // session_id
  const topics = reader.readArray((r) => ({
    topic: r.readString(),
    partitions: r.readArray((r) => {
      const partition: FetchedPartition = {
        partitionIndex: r.readInt32(),
        errorCode: r.readInt16(),
        highWatermark: Number(r.readInt64()),
        logStartOffset: 0,
      }
      r.readInt64() // last_stable_offset
      partition.logStartOffset = Number(r.readInt64())
      const aborted = r.readArray((r) => ({producerId: r.readInt64(), firstOffset: Number(r.readInt64())}))
      if (aborted.length > 0) partition.abortedTransactions = aborted
      r.readInt32() // preferred_read_replica
      const size = r.readUnsignedVarInt() - 1
      if (size > 0) {
        partition.records = r.buffer.subarray(r.position, r.position + size).buffer
        r.skip(size)
      }
      return partition
    }),
  }))
  if (errors.length > 0) throw new ResponseError(apiKey, apiVersion, Object.fromEntries(errors), topics)
  return topics
}

/** A zigzag varint (Kafka's varint and varlong). One byte is the common case and the fast path. */
function readVarint(body: Buffer, cursor: {at: number}): number {
  let byte = body[cursor.at++]!
  if (byte < 0x80) return (byte >>> 1) ^ -(byte & 1)
  let result = byte & 0x7f
  let scale = 128
  do {
    byte = body[cursor.at++]!
    result += (byte & 0x7f) * scale
    scale *= 128
  } while (byte & 0x80)
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2
}
/** Kafka's isolation level for reads that leave out aborted transactions and stop before open ones. */
export const READ_COMMITTED = 1
const TRANSACTIONAL = 0x10
const CONTROL = 0x20
/** A control record's type (its key: version, type): 0 marks an abort, 1 a commit. */
const ABORT_MARKER = 0

/** The type of the first control record in `body` from `start` (a control batch holds one), or -1. */
function controlType(body: Buffer, start: number, end: number): number {
  const cursor = {at: start}
  readVarint(body, cursor) // length
  cursor.at++ // attributes
  readVarint(body, cursor) // timestamp delta
  readVarint(body, cursor) // offset delta
  const keyLength = readVarint(body, cursor)
  return keyLength >= 4 && cursor.at + 4 <= end ? body.readInt16BE(cursor.at + 2) : -1
}

/** Record counts of the whole batches in `raw`: room for the columns, allocated once. */
function recordCapacity(raw: Buffer): number {
  let capacity = 0
  for (let at = 0; at + 61 <= raw.length; ) {
    const end = at + 12 + raw.readInt32BE(at + 8)
    if (end > raw.length) break
    capacity += Math.max(0, raw.readInt32BE(at + 57))
    at = end
  }
  return capacity
}

/**
 * Records of one partition from a fetch, in offset order, restricted to [from, until). Values and keys
 * are views into the fetched (or decompressed) bytes, kept as positions in typed columns sized once from
 * the batch headers: a JavaScript array per field, grown a record at a time, was a fifth of consume's time.
 */
export class KafkaRecordBatch implements RecordBatch {
  count = 0
  /** The offset after the last record or control record seen, where the next fetch starts. */
  nextOffset: number
  private readonly offsets: Float64Array
  private readonly timestamps: Float64Array
  /** The buffer each record's key and value are in: the fetched bytes, or a batch decompressed from them. */
  private readonly bodies: Buffer[] = []
  private readonly bodyOf: Uint32Array
  private readonly keyStarts: Int32Array
  private readonly keyLengths: Int32Array
  private readonly valueStarts: Int32Array
  private readonly valueLengths: Int32Array
  /** Headers by record, made only when a record has any. */
  private headerLists: (Header[] | null)[] | null = null
  /** A damaged batch met after the records above: thrown by the reader once they are out. */
  damage: SpoolError | undefined
  private hasKeys = false
  /**
   * The value and key columns when every record's bytes are in one buffer (uncompressed batches: the
   * fetched bytes themselves), so that the writers walk them without an accessor call per record.
   */
  valueColumn?: () => ByteColumn
  keyColumn?: () => ByteColumn | undefined

  constructor(readonly topic: string, readonly partition: number, raw: Buffer, from: number, until: number | undefined, aborted?: readonly AbortedTransaction[]) {
    this.nextOffset = from
    // Read committed, as Kafka's own consumer does it: a producer whose transaction the fetch names as
    // aborted (from its first offset on) has its transactional batches left out until its abort marker.
    const abortedFrom = aborted ? [...aborted].sort((x, y) => x.firstOffset - y.firstOffset) : []
    let nextAborted = 0
    const abortedProducers = new Set<bigint>()
    const capacity = recordCapacity(raw)
    this.offsets = new Float64Array(capacity)
    this.timestamps = new Float64Array(capacity)
    this.bodyOf = new Uint32Array(capacity)
    this.keyStarts = new Int32Array(capacity)
    this.keyLengths = new Int32Array(capacity)
    this.valueStarts = new Int32Array(capacity)
    this.valueLengths = new Int32Array(capacity)
    let at = 0
    while (at + 61 <= raw.length) {
      const baseOffset = Number(raw.readBigInt64BE(at))
      const length = raw.readInt32BE(at + 8)
      const end = at + 12 + length
      // A fetch may end with a partial batch: it is read again by the next fetch.
      if (end > raw.length) break
      const attributes = raw.readInt16BE(at + 21)
      const lastOffsetDelta = raw.readInt32BE(at + 23)
      const baseTimestamp = Number(raw.readBigInt64BE(at + 27))
      const recordCount = raw.readInt32BE(at + 57)
      const batchEnd = baseOffset + lastOffsetDelta + 1
      // The CRC-32C covers the batch from its attributes to its end, as Kafka's own clients check it.
      if (raw.readInt8(at + 16) !== 2 || crc32c(raw.subarray(at + 21, end)) !== raw.readUInt32BE(at + 17)) {
        this.damage = new SpoolError(
          `Kafka returned a damaged record batch for ${topic}/${partition}, offsets ${baseOffset}-${batchEnd - 1}: it does not match its CRC`,
          {hint: 'read again; if it persists, the broker\'s log segment is damaged'},
        )
        break
      }
      let abortedBatch = false
      if ((attributes & TRANSACTIONAL) !== 0) {
        while (nextAborted < abortedFrom.length && abortedFrom[nextAborted]!.firstOffset <= batchEnd - 1) abortedProducers.add(abortedFrom[nextAborted++]!.producerId)
        const producerId = raw.readBigInt64BE(at + 43)
        if ((attributes & CONTROL) !== 0) {
          if (abortedProducers.has(producerId) && controlType(raw, at + 61, end) === ABORT_MARKER) abortedProducers.delete(producerId)
        } else abortedBatch = abortedProducers.has(producerId)
      }
      if ((attributes & CONTROL) === 0 && !abortedBatch && batchEnd > from) {
        const codec = COMPRESSIONS[attributes & 0x07]
        if (codec === undefined) throw new Error(`unknown compression ${attributes & 0x07} in ${topic}/${partition}`)
        if (codec === 'none') this.decodeRecords(raw, at + 61, end, recordCount, baseOffset, baseTimestamp, from, until)
        else {
          const body = compressionsAlgorithms[codec].decompressSync(raw.subarray(at + 61, end)) as Buffer
          this.decodeRecords(body, 0, body.length, recordCount, baseOffset, baseTimestamp, from, until)
        }
      }
      this.nextOffset = Math.max(this.nextOffset, until === undefined ? batchEnd : Math.min(batchEnd, until))
      at = end
    }
    if (this.bodies.length === 1) {
      const buf = this.bodies[0]!
      const values = {buf, starts: this.valueStarts, lengths: this.valueLengths, first: 0}
      const keys = this.hasKeys ? {buf, starts: this.keyStarts, lengths: this.keyLengths, first: 0} : undefined
      this.valueColumn = () => values
      this.keyColumn = () => keys
    }
  }

  /** Records of one batch, in `body` from `start`; uncompressed, `body` is the whole fetched buffer. */
  private decodeRecords(body: Buffer, start: number, end: number, count: number, baseOffset: number, baseTimestamp: number, from: number, until: number | undefined): void {
    if (this.bodies.at(-1) !== body) this.bodies.push(body)
    const bodyIndex = this.bodies.length - 1
    const cursor = {at: start}
    for (let i = 0; i < count && cursor.at < end; i++) {
      const length = readVarint(body, cursor)
      const next = cursor.at + length
      cursor.at++ // attributes
      const timestampDelta = readVarint(body, cursor)
      const offset = baseOffset + readVarint(body, cursor)
      if (offset < from || (until !== undefined && offset >= until)) {
        cursor.at = next
        continue
      }
      const keyLength = readVarint(body, cursor)
      const keyStart = cursor.at
      if (keyLength >= 0) {
        this.hasKeys = true
        cursor.at += keyLength
      }
      const valueLength = readVarint(body, cursor)
      const valueStart = cursor.at
      if (valueLength > 0) cursor.at += valueLength
      const headerCount = readVarint(body, cursor)
      const n = this.count
      if (headerCount > 0) {
        const headers: Header[] = []
        for (let h = 0; h < headerCount; h++) {
          const nameLength = readVarint(body, cursor)
          const name = body.toString('utf8', cursor.at, cursor.at + nameLength)
          cursor.at += nameLength
          const headerLength = readVarint(body, cursor)
          const value = headerLength < 0 ? null : body.subarray(cursor.at, cursor.at + headerLength)
          if (headerLength > 0) cursor.at += headerLength
          headers.push({key: name, value})
        }
        ;(this.headerLists ??= [])[n] = headers
      }
      this.offsets[n] = offset
      this.timestamps[n] = baseTimestamp + timestampDelta
      this.bodyOf[n] = bodyIndex
      this.keyStarts[n] = keyStart
      this.keyLengths[n] = keyLength
      this.valueStarts[n] = valueStart
      this.valueLengths[n] = valueLength
      this.count = n + 1
      cursor.at = next
    }
  }

  /**
   * Frees the fetched bytes (and any batch decompressed from them) at once, each that is a buffer of its
   * own: a 1M-record consume fetches ~110 MB in responses of up to 4 MiB, and left to the collector they
   * piled up as external memory that set off a full collection every few responses (core/record.ts).
   */
  release(): void {
    for (const body of this.bodies) {
      const {buffer} = body
      if (body.byteOffset === 0 && body.byteLength === buffer.byteLength && buffer.byteLength > 0)
        (buffer as ArrayBuffer & {transfer(length: number): ArrayBuffer}).transfer(0)
    }
  }

  offsetAt(i: number) {
    return this.offsets[i]!
  }
  timestampAt(i: number) {
    return this.timestamps[i]!
  }
  keyAt(i: number) {
    const length = this.keyLengths[i]!
    return length < 0 ? null : this.bodies[this.bodyOf[i]!]!.subarray(this.keyStarts[i]!, this.keyStarts[i]! + length)
  }
  valueAt(i: number) {
    const length = this.valueLengths[i]!
    return length < 0 ? null : this.bodies[this.bodyOf[i]!]!.subarray(this.valueStarts[i]!, this.valueStarts[i]! + length)
  }
  headersAt(i: number) {
    return this.headerLists?.[i] ?? []
  }
  valueLength(i: number) {
    return this.valueLengths[i]!
  }
  copyValue(i: number, target: Buffer, position: number) {
    const length = this.valueLengths[i]!
    if (length < 0) return -1
    return this.bodies[this.bodyOf[i]!]!.copy(target, position, this.valueStarts[i]!, this.valueStarts[i]! + length)
  }
}
