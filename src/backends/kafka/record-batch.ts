import type {PendingBatch} from '../../core/record.js'

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
 * Encodes records [from, to) of `batch` as one record batch. `crc32c` comes from the client library
 * (native where it can load it); `compress`, when given, compresses the records section.
 */
export function encodeRecordBatch(
  batch: PendingBatch,
  from: number,
  to: number,
  crc32c: (data: Buffer) => number,
  compression: {bits: number; compress: Codec} | undefined,
  /** Idempotent produce: the broker stores a partition's batches only in sequence, never after a gap. */
  producer?: {id: bigint; epoch: number; baseSequence: number},
): Buffer {
  const baseTimestamp = recordTimestamp(batch, from)
  let maxTimestamp = baseTimestamp
  const sizes = new Array<number>(to - from)
  let recordsBytes = 0
  for (let i = from; i < to; i++) {
    const size = recordBodySize(batch, i, baseTimestamp, i - from)
    sizes[i - from] = size
    recordsBytes += varintSize(size) + size
    const timestamp = recordTimestamp(batch, i)
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
  }
  let records: Buffer = Buffer.allocUnsafe(recordsBytes)
  let at = 0
  const packed = batch.packed
  // A packed batch's values lie back to back in packed.data: record `from` starts after those before it.
  let packedAt = 0
  if (packed) for (let i = 0; i < from; i++) packedAt += packed.lengths[i]!
  for (let i = from; i < to; i++) {
    at = writeVarint(records, at, sizes[i - from]!)
    records[at++] = 0
    at = writeVarint(records, at, recordTimestamp(batch, i) - baseTimestamp)
    at = writeVarint(records, at, i - from)
    if (packed) {
      const length = packed.lengths[i]!
      at = writeVarint(records, at, -1) // no key
      at = writeVarint(records, at, length)
      records.set(packed.data.subarray(packedAt, packedAt + length), at)
      at += length
      packedAt += length
      records[at++] = 0 // no headers
      continue
    }
    const key = batch.keys?.[i] ?? null
    if (key === null) at = writeVarint(records, at, -1)
    else {
      at = writeVarint(records, at, key.length)
      at += key.copy(records, at)
    }
    const value = batch.values[i] ?? null
    if (value === null) at = writeVarint(records, at, -1)
    else {
      at = writeVarint(records, at, value.length)
      at += value.copy(records, at)
    }
    const headers = batch.headers?.[i] ?? null
    at = writeVarint(records, at, headers?.length ?? 0)
    if (headers)
      for (const header of headers) {
        const name = Buffer.from(header.key, 'utf8')
        at = writeVarint(records, at, name.length)
        at += name.copy(records, at)
        if (header.value === null) at = writeVarint(records, at, -1)
        else {
          at = writeVarint(records, at, header.value.length)
          at += header.value.copy(records, at)
        }
      }
  }
  if (compression) records = compression.compress(records)
  const out = Buffer.allocUnsafe(HEADER_BYTES + records.length)
  out.writeBigInt64BE(0n, 0)
  out.writeInt32BE(HEADER_BYTES - 12 + records.length, 8)
  out.writeInt32BE(-1, 12)
  out.writeInt8(2, 16)
  out.writeInt16BE(compression?.bits ?? 0, CRC_START)
  out.writeInt32BE(to - from - 1, 23)
  out.writeBigInt64BE(BigInt(baseTimestamp), 27)
  out.writeBigInt64BE(BigInt(maxTimestamp), 35)
  out.writeBigInt64BE(producer?.id ?? -1n, 43)
  out.writeInt16BE(producer?.epoch ?? -1, 51)
  out.writeInt32BE(producer?.baseSequence ?? -1, 53)
  out.writeInt32BE(to - from, 57)
  records.copy(out, HEADER_BYTES)
  out.writeUInt32BE(crc32c(out.subarray(CRC_START)) >>> 0, 17)
  return out
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
  const head: number[] = [0] // transactional_id: null
  const fixed = Buffer.alloc(6)
  fixed.writeInt16BE(acks, 0)
  fixed.writeInt32BE(timeoutMs, 2)
  const name = Buffer.from(topic, 'utf8')
  const topicHead: number[] = []
  writeUnsignedVarint(topicHead, 2) // one topic
  writeUnsignedVarint(topicHead, name.length + 1)
  const pieces: Buffer[] = [Buffer.from(head), fixed, Buffer.from(topicHead), name]
  const count: number[] = []
  writeUnsignedVarint(count, partitions.length + 1)
  pieces.push(Buffer.from(count))
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
