import {compressionsAlgorithms, ResponseError} from '@platformatic/kafka'
import {crc32c} from '../../core/checksum.js'
import {SpoolError} from '../../core/errors.js'
import type {Header, RecordBatch} from '../../core/record.js'
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
  records?: Buffer
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
      r.readArray((r) => [r.readInt64(), r.readInt64()]) // aborted transactions
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
const CONTROL = 0x20

/**
 * Records of one partition from a fetch, in offset order, restricted to [from, until). Values and keys
 * are views into the fetched (or decompressed) bytes.
 */
export class KafkaRecordBatch implements RecordBatch {
  count = 0
  /** The offset after the last record or control record seen, where the next fetch starts. */
  nextOffset: number
  private readonly offsets: number[] = []
  private readonly timestamps: number[] = []
  private readonly sources: Buffer[] = []
  private readonly keyStarts: number[] = []
  private readonly keyLengths: number[] = []
  private readonly valueStarts: number[] = []
  private readonly valueLengths: number[] = []
  private readonly headerLists: (Header[] | null)[] = []
  /** A damaged batch met after the records above: thrown by the reader once they are out. */
  damage: SpoolError | undefined

  constructor(readonly topic: string, readonly partition: number, raw: Buffer, from: number, until: number | undefined) {
    this.nextOffset = from
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
      if ((attributes & CONTROL) === 0 && batchEnd > from) {
        let body = raw.subarray(at + 61, end)
        const codec = COMPRESSIONS[attributes & 0x07]
        if (codec === undefined) throw new Error(`unknown compression ${attributes & 0x07} in ${topic}/${partition}`)
        if (codec !== 'none') body = compressionsAlgorithms[codec].decompressSync(body) as Buffer
        this.decodeRecords(body, recordCount, baseOffset, baseTimestamp, from, until)
      }
      this.nextOffset = Math.max(this.nextOffset, until === undefined ? batchEnd : Math.min(batchEnd, until))
      at = end
    }
  }

  private decodeRecords(body: Buffer, count: number, baseOffset: number, baseTimestamp: number, from: number, until: number | undefined): void {
    const cursor = {at: 0}
    for (let i = 0; i < count; i++) {
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
      if (keyLength > 0) cursor.at += keyLength
      const valueLength = readVarint(body, cursor)
      const valueStart = cursor.at
      if (valueLength > 0) cursor.at += valueLength
      const headerCount = readVarint(body, cursor)
      let headers: Header[] | null = null
      if (headerCount > 0) {
        headers = []
        for (let h = 0; h < headerCount; h++) {
          const nameLength = readVarint(body, cursor)
          const name = body.toString('utf8', cursor.at, cursor.at + nameLength)
          cursor.at += nameLength
          const headerLength = readVarint(body, cursor)
          const value = headerLength < 0 ? null : body.subarray(cursor.at, cursor.at + headerLength)
          if (headerLength > 0) cursor.at += headerLength
          headers.push({key: name, value})
        }
      }
      this.offsets.push(offset)
      this.timestamps.push(baseTimestamp + timestampDelta)
      this.sources.push(body)
      this.keyStarts.push(keyStart)
      this.keyLengths.push(keyLength)
      this.valueStarts.push(valueStart)
      this.valueLengths.push(valueLength)
      this.headerLists.push(headers)
      this.count++
      cursor.at = next
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
    return length < 0 ? null : this.sources[i]!.subarray(this.keyStarts[i]!, this.keyStarts[i]! + length)
  }
  valueAt(i: number) {
    const length = this.valueLengths[i]!
    return length < 0 ? null : this.sources[i]!.subarray(this.valueStarts[i]!, this.valueStarts[i]! + length)
  }
  headersAt(i: number) {
    return this.headerLists[i] ?? []
  }
  valueLength(i: number) {
    return this.valueLengths[i]!
  }
  copyValue(i: number, target: Buffer, position: number) {
    const length = this.valueLengths[i]!
    if (length < 0) return -1
    return this.sources[i]!.copy(target, position, this.valueStarts[i]!, this.valueStarts[i]! + length)
  }
}
