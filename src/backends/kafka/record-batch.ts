import {PackedValues, type PendingBatch} from '../../core/record.js'

/**
 * Kafka's record batch (magic v2), written straight from a PendingBatch's columns into one buffer. The
 * client library builds a small buffer per record and field; at a million records a second that was
 * most of the produce time (copies and garbage collection), so spool writes the format itself.
 *
 *   baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8, crc uint32 (CRC-32C of
 *   what follows it), attributes int16, lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64,
 *   producerId int64, producerEpoch int16, baseSequence int32, recordCount int32, records...
 *   record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 *           key (varint length, -1 for null), value (same), headerCount varint,
 *           header: key (varint length + UTF-8), value (varint length, -1 for null)
 */
const HEADER_BYTES = 61
const CRC_START = 21

export type Codec = (records: Buffer) => Buffer
/** CRC-32C, continuing from `previous` (the CRC of the bytes before) when given: core/checksum.ts. */
export type Crc32c = (data: Buffer, previous?: number) => number

function varintSize(value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1
  let size = 1
  while (zigzag >= 0x80) {
    zigzag = Math.floor(zigzag / 128)
    size++
  }
  return size
}

function writeVarint(buffer: Buffer, position: number, value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1
  while (zigzag >= 0x80) {
    buffer[position++] = (zigzag & 0x7f) | 0x80
    zigzag = Math.floor(zigzag / 128)
  }
  buffer[position++] = zigzag
  return position
}

/** A record's timestamp, from a batch of columns or a packed one (produce's plain lines: PendingBatch.addPacked). */
export function recordTimestamp(batch: PendingBatch, index: number): number {
  return batch.packed ? batch.packed.timestamps[index]! : batch.timestamps[index]!
}

/** Bytes a record takes in a batch, excluding its own length prefix; used to cut batches under a size. */
export function recordBodySize(batch: PendingBatch, index: number, baseTimestamp: number, offsetDelta: number): number {
  const key = batch.keys?.[index] ?? null
  let size = 1 + varintSize(recordTimestamp(batch, index) - baseTimestamp) + varintSize(offsetDelta)
  size += key === null ? 1 : varintSize(key.length) + key.length
  if (batch.packed) {
    const length = batch.packed.lengths[index]!
    return size + varintSize(length) + length + 1 // a packed record has no key and no headers
  }
  const value = batch.values[index] ?? null
  size += value === null ? 1 : varintSize(value.length) + value.length
  const headers = batch.headers?.[index] ?? null
  size += varintSize(headers?.length ?? 0)
  if (headers)
    for (const header of headers) {
      const name = Buffer.byteLength(header.key)
      size += varintSize(name) + name + (header.value === null ? 1 : varintSize(header.value.length) + header.value.length)
    }
  return size
}

/**
 * Plain lines laid out as Kafka's records section while produce splits them (Backend.packedLayout): each
 * line is framed as a record without key or headers, its deltas taken from the batch's first record. A
 * request then copies the section whole, where a batch of plain values costs a planned size, a view and a
 * copy per record (about a quarter of a produce's CPU at 1M lines of 100 bytes: docs/BENCHMARKS.md). The
 * deltas are the batch's, so such a batch is always sent whole, as one record batch (planRecords).
 */
export class KafkaRecordsLayout extends PackedValues {
  override append(chunk: Buffer, start: number, end: number, timestamp: number, index: number): void {
    this.appendKeyed(null, 0, 0, chunk, start, end, timestamp, index)
  }

  override appendKeyed(key: Uint8Array | null, keyStart: number, keyEnd: number, value: Uint8Array, start: number, end: number, timestamp: number, index: number): void {
    const length = end - start
    const keyLength = key === null ? -1 : keyEnd - keyStart
    if (index === this.lengths.length) this.growRecords()
    const timestampDelta = index === 0 ? 0 : timestamp - this.timestamps[0]!
    // attributes and the header count are a byte each
    const body = 2 + varintSize(timestampDelta) + varintSize(index) + varintSize(keyLength) + Math.max(0, keyLength) + varintSize(length) + length
    const room = varintSize(body) + body
    if (this.used + room > this.data.length) this.growBytes(room)
    const data = this.data
    let at = writeVarint(data, this.used, body)
    data[at++] = 0
    at = writeVarint(data, at, timestampDelta)
    at = writeVarint(data, at, index)
    at = writeVarint(data, at, keyLength)
    if (key !== null) {
      // Keys are mostly short: a loop copies them for less than a view and set() cost.
      if (keyLength <= 16) for (let i = keyStart; i < keyEnd; i++) data[at++] = key[i]!
      else {
        data.set(new Uint8Array(key.buffer, key.byteOffset + keyStart, keyLength), at)
        at += keyLength
      }
    }
    at = writeVarint(data, at, length)
    data.set(new Uint8Array(value.buffer, value.byteOffset + start, length), at)
    at += length
    data[at++] = 0
    this.used = at
    this.lengths[index] = length
    this.timestamps[index] = timestamp
  }
}

/** The records section of a batch before it is written: each record's size and the timestamps. */
export interface RecordsPlan {
  /** The records planned: [from, to) of the batch. */
  to: number
  sizes: number[]
  bytes: number
  baseTimestamp: number
  maxTimestamp: number
}

/**
 * Plans records from `from` on, up to `to` or until they take `maxBytes` (at least one record): how a
 * produce cuts a batch into requests, with each record's size measured once for the cut and the encoding.
 */
export function planRecords(batch: PendingBatch, from: number, to: number, maxBytes = Infinity): RecordsPlan {
  if (batch.packed instanceof KafkaRecordsLayout) return laidOutPlan(batch, batch.packed, from, to)
  const baseTimestamp = recordTimestamp(batch, from)
  let maxTimestamp = baseTimestamp
  const sizes: number[] = []
  let bytes = 0
  let i = from
  while (i < to && (i === from || bytes < maxBytes)) {
    const size = recordBodySize(batch, i, baseTimestamp, i - from)
    sizes.push(size)
    bytes += varintSize(size) + size
    const timestamp = recordTimestamp(batch, i)
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
    i++
  }
  return {to: i, sizes, bytes, baseTimestamp, maxTimestamp}
}

/** A batch laid out as Kafka's records: all of it, whatever the size, since its deltas are the batch's. */
function laidOutPlan(batch: PendingBatch, layout: KafkaRecordsLayout, from: number, to: number): RecordsPlan {
  if (from !== 0 || to !== batch.count) throw new Error(`records ${from}-${to} of a batch of ${batch.count} laid out as Kafka records: it is sent whole`)
  const {timestamps} = layout
  let maxTimestamp = timestamps[0]!
  for (let i = 1; i < to; i++) if (timestamps[i]! > maxTimestamp) maxTimestamp = timestamps[i]!
  return {to, sizes: [], bytes: layout.used, baseTimestamp: timestamps[0]!, maxTimestamp}
}

/** Writes records [from, to) into `target` at `at` (plan.bytes of room); returns where they end. */
function writeRecords(target: Buffer, at: number, batch: PendingBatch, from: number, to: number, plan: RecordsPlan): number {
  const {sizes, baseTimestamp} = plan
  const {values, keys, headers: headerLists, packed} = batch
  if (packed instanceof KafkaRecordsLayout) {
    target.set(new Uint8Array(packed.data.buffer, packed.data.byteOffset, packed.used), at)
    return at + packed.used
  }
  const timestamps = packed ? packed.timestamps : batch.timestamps
  // A packed batch's values lie back to back in packed.data: record `from` starts after those before it.
  let packedAt = 0
  if (packed) for (let i = 0; i < from; i++) packedAt += packed.lengths[i]!
  for (let i = from; i < to; i++) {
    at = writeVarint(target, at, sizes[i - from]!)
    target[at++] = 0
    at = writeVarint(target, at, timestamps[i]! - baseTimestamp)
    at = writeVarint(target, at, i - from)
    if (packed) {
      const length = packed.lengths[i]!
      at = writeVarint(target, at, -1) // no key
      at = writeVarint(target, at, length)
      target.set(new Uint8Array(packed.data.buffer, packed.data.byteOffset + packedAt, length), at)
      at += length
      packedAt += length
      target[at++] = 0 // no headers
      continue
    }
    const key = keys?.[i] ?? null
    if (key === null) at = writeVarint(target, at, -1)
    else {
      at = writeVarint(target, at, key.length)
      // TypedArray set, not Buffer copy: a memmove without copy()'s argument checks, per record.
      target.set(key, at)
      at += key.length
    }
    const value = values[i] ?? null
    if (value === null) at = writeVarint(target, at, -1)
    else {
      at = writeVarint(target, at, value.length)
      target.set(value, at)
      at += value.length
    }
    const headers = headerLists?.[i] ?? null
    at = writeVarint(target, at, headers?.length ?? 0)
    if (headers)
      for (const header of headers) {
        const name = Buffer.from(header.key, 'utf8')
        at = writeVarint(target, at, name.length)
        at += name.copy(target, at)
        if (header.value === null) at = writeVarint(target, at, -1)
        else {
          at = writeVarint(target, at, header.value.length)
          at += header.value.copy(target, at)
        }
      }
  }
  return at
}

/**
 * Writes the batch header at `start` for a records section of `recordsLength` bytes already in place
 * after it, then the CRC over both.
 */
function writeBatchHeader(
  out: Buffer,
  start: number,
  recordsLength: number,
  count: number,
  plan: RecordsPlan,
  crc32c: Crc32c,
  compressionBits: number,
  producer: {id: bigint; epoch: number; baseSequence: number} | undefined,
  /** The records section when it is not in place after the header (a batch sent from its own buffer). */
  records?: Buffer,
): void {
  out.writeBigInt64BE(0n, start)
  out.writeInt32BE(HEADER_BYTES - 12 + recordsLength, start + 8)
  out.writeInt32BE(-1, start + 12)
  out.writeInt8(2, start + 16)
  out.writeInt16BE(compressionBits, start + CRC_START)
  out.writeInt32BE(count - 1, start + 23)
  out.writeBigInt64BE(BigInt(plan.baseTimestamp), start + 27)
  out.writeBigInt64BE(BigInt(plan.maxTimestamp), start + 35)
  out.writeBigInt64BE(producer?.id ?? -1n, start + 43)
  out.writeInt16BE(producer?.epoch ?? -1, start + 51)
  out.writeInt32BE(producer?.baseSequence ?? -1, start + 53)
  out.writeInt32BE(count, start + 57)
  const crc = records
    ? crc32c(records, crc32c(out.subarray(start + CRC_START, start + HEADER_BYTES)))
    : crc32c(out.subarray(start + CRC_START, start + HEADER_BYTES + recordsLength))
  out.writeUInt32BE(crc >>> 0, start + 17)
}

/**
 * Encodes records [from, to) of `batch` as one record batch (`crc32c`: core/checksum.ts in produce);
 * `compress`, when given, compresses the records section.
 */
export function encodeRecordBatch(
  batch: PendingBatch,
  from: number,
  to: number,
  crc32c: Crc32c,
  compression: {bits: number; compress: Codec} | undefined,
  /** Idempotent produce: the broker stores a partition's batches only in sequence, never after a gap. */
  producer?: {id: bigint; epoch: number; baseSequence: number},
  /** planRecords(batch, from, to) when the caller has it already. */
  plan = planRecords(batch, from, to),
): Buffer {
  if (!compression) {
    // The records are written in place after the header: no second buffer, no copy.
    const out = Buffer.allocUnsafe(HEADER_BYTES + plan.bytes)
    writeRecords(out, HEADER_BYTES, batch, from, to, plan)
    writeBatchHeader(out, 0, plan.bytes, to - from, plan, crc32c, 0, producer)
    return out
  }
  const records = Buffer.allocUnsafe(plan.bytes)
  writeRecords(records, 0, batch, from, to, plan)
  const compressed = compression.compress(records)
  const out = Buffer.allocUnsafe(HEADER_BYTES + compressed.length)
  compressed.copy(out, HEADER_BYTES)
  writeBatchHeader(out, 0, compressed.length, to - from, plan, crc32c, compression.bits, producer)
  return out
}

/** The partition's tagged fields, the topic's and the request's: the end of a one-partition Produce request. */
const REQUEST_END = Buffer.from([0, 0, 0])

/**
 * One Produce request body (version 9) for records [from, to) of one partition, in parts to be written
 * back to back. Uncompressed, the batch is encoded in place inside the request, so 100 MB of records are
 * not copied twice more on their way to the socket (a batch buffer, then the request concatenated around
 * it): that was a third of produce's allocation, and the garbage collection it caused. A batch laid out as
 * Kafka's records is not copied at all: its buffer is a part of its own, between the header and the end.
 */
export function encodeProduceRequest(
  request: {topic: string; acks: number; timeoutMs: number; partition: number},
  batch: PendingBatch,
  from: number,
  to: number,
  crc32c: Crc32c,
  compression: {bits: number; compress: Codec} | undefined,
  producer?: {id: bigint; epoch: number; baseSequence: number},
  /** planRecords(batch, from, to) when the caller has it already. */
  plan = planRecords(batch, from, to),
): Buffer[] {
  const {topic, acks, timeoutMs, partition} = request
  if (compression) return [produceRequestBody(topic, acks, timeoutMs, [{partition, records: encodeRecordBatch(batch, from, to, crc32c, compression, producer, plan)}])]
  const batchLength = HEADER_BYTES + plan.bytes
  const head = requestHead(topic, acks, timeoutMs, 1)
  const index: number[] = []
  writeUnsignedVarint(index, batchLength + 1)
  const start = head.length + 4 + index.length
  // With acks=0 the append is done once the request is handed to the socket, which may still hold it
  // when produce refills the batch's buffer: that request takes a copy.
  const laidOut = batch.packed instanceof KafkaRecordsLayout && acks !== 0 ? batch.packed.data.subarray(0, batch.packed.used) : undefined
  const out = Buffer.allocUnsafe(start + (laidOut ? HEADER_BYTES : batchLength + REQUEST_END.length))
  head.copy(out, 0)
  out.writeInt32BE(partition, head.length)
  for (let i = 0; i < index.length; i++) out[head.length + 4 + i] = index[i]!
  if (laidOut) {
    writeBatchHeader(out, start, plan.bytes, to - from, plan, crc32c, 0, producer, laidOut)
    return [out, laidOut, REQUEST_END]
  }
  writeRecords(out, start + HEADER_BYTES, batch, from, to, plan)
  writeBatchHeader(out, start, plan.bytes, to - from, plan, crc32c, 0, producer)
  REQUEST_END.copy(out, start + batchLength)
  return [out]
}

function writeUnsignedVarint(parts: number[], value: number): void {
  while (value >= 0x80) {
    parts.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 128)
  }
  parts.push(value)
}

/**
 * The body of a Produce request, version 9 (the first flexible version; Kafka 2.8 and later): one topic,
 * one record batch per partition.
 */
export function produceRequestBody(topic: string, acks: number, timeoutMs: number, partitions: {partition: number; records: Buffer}[]): Buffer {
  const pieces: Buffer[] = [requestHead(topic, acks, timeoutMs, partitions.length)]
  for (const {partition, records} of partitions) {
    const index = Buffer.alloc(4)
    index.writeInt32BE(partition, 0)
    const length: number[] = []
    writeUnsignedVarint(length, records.length + 1)
    pieces.push(index, Buffer.from(length), records, Buffer.from([0]))
  }
  pieces.push(Buffer.from([0, 0])) // the topic's tagged fields, then the request's
  return Buffer.concat(pieces)
}

/** A Produce v9 body up to its one topic's partition array length: transactional id, acks, timeout, topic. */
function requestHead(topic: string, acks: number, timeoutMs: number, partitions: number): Buffer {
  const name = Buffer.from(topic, 'utf8')
  const varints: number[] = []
  writeUnsignedVarint(varints, 2) // one topic
  writeUnsignedVarint(varints, name.length + 1)
  const count: number[] = []
  writeUnsignedVarint(count, partitions + 1)
  const head = Buffer.allocUnsafe(1 + 6 + varints.length + name.length + count.length)
  head[0] = 0 // transactional_id: null
  head.writeInt16BE(acks, 1)
  head.writeInt32BE(timeoutMs, 3)
  let at = 7
  for (const v of varints) head[at++] = v
  at += name.copy(head, at)
  for (const v of count) head[at++] = v
  return head
}
