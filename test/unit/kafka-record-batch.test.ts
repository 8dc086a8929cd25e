import {compressionsAlgorithms, crc32c, Reader, readRecordsBatches} from '@platformatic/kafka'
import {describe, expect, it} from 'vitest'
import {KafkaRecordBatch} from '../../src/backends/kafka/fetch.js'
import {encodeProduceRequest, encodeRecordBatch, KafkaRecordsLayout, planRecords, produceRequestBody, recordBodySize} from '../../src/backends/kafka/record-batch.js'
import {crc32c as spoolCrc32c} from '../../src/core/checksum.js'
import {PackedValues, PendingBatch, recordAt, recordSize} from '../../src/core/record.js'

function pending(records: {value: Buffer | null; key?: Buffer | null; headers?: {key: string; value: Buffer | null}[]; timestamp: number}[]) {
  const batch = new PendingBatch(0)
  for (const r of records) batch.add(r.value, r.key ?? null, r.headers ?? null, r.timestamp, recordSize(r.key ?? null, r.value, r.headers ?? null))
  return batch
}

// spool writes Kafka's record batch format itself and reads fetched batches itself; both are checked
// against each other here and against a real broker and kcat in test/kafka.
describe('Kafka record batches', () => {
  const records = [
    {value: Buffer.from('plain'), timestamp: 1_700_000_000_000},
    {value: null, key: Buffer.from('tombstone'), timestamp: 1_600_000_000_000}, // earlier than the first: a negative delta
    {value: Buffer.alloc(0), key: Buffer.alloc(0), timestamp: 1_800_000_000_000}, // years later: a multi-byte varlong
    {value: Buffer.alloc(300, 7), key: Buffer.from([0, 255]), timestamp: 1_700_000_000_001, headers: [{key: 'dup', value: Buffer.from('1')}, {key: 'dup', value: null}, {key: 'é', value: Buffer.alloc(0)}]},
  ]

  it('round-trips keys, values, headers and timestamps, null and empty kept apart', () => {
    const raw = encodeRecordBatch(pending(records), 0, records.length, crc32c as (b: Buffer) => number, undefined)
    const decoded = new KafkaRecordBatch('t', 0, raw, 0, undefined)
    expect(decoded.count).toBe(4)
    expect(decoded.nextOffset).toBe(4)
    expect(Array.from({length: 4}, (_, i) => recordAt(decoded, i))).toEqual(
      records.map((r, i) => ({topic: 't', partition: 0, offset: i, timestamp: r.timestamp, key: r.key ?? null, value: r.value, headers: r.headers ?? []})),
    )
  })

  it('gives uncompressed records as value and key columns, the same bytes the accessors give; none when bytes are in several buffers', () => {
    const raw = encodeRecordBatch(pending(records), 0, records.length, crc32c as (b: Buffer) => number, undefined)
    const decoded = new KafkaRecordBatch('t', 0, raw, 1, undefined)
    const column = (c: {buf: Buffer; starts: Int32Array; lengths: Int32Array; first: number}, i: number) =>
      c.lengths[c.first + i]! < 0 ? null : c.buf.subarray(c.starts[c.first + i]!, c.starts[c.first + i]! + c.lengths[c.first + i]!)
    const values = decoded.valueColumn!()
    const keys = decoded.keyColumn!()!
    for (let i = 0; i < decoded.count; i++) {
      expect(column(values, i)).toEqual(decoded.valueAt(i))
      expect(column(keys, i)).toEqual(decoded.keyAt(i))
    }
    expect(new KafkaRecordBatch('t', 0, raw, 0, 1).keyColumn!()).toBeUndefined() // the one record read has no key
    const gzip = {bits: 1, compress: (data: Buffer) => compressionsAlgorithms.gzip.compressSync(data) as Buffer}
    const two = Buffer.concat([
      encodeRecordBatch(pending(records.slice(0, 2)), 0, 2, crc32c as (b: Buffer) => number, gzip),
      encodeRecordBatch(pending(records.slice(2)), 0, 2, crc32c as (b: Buffer) => number, gzip),
    ])
    expect(new KafkaRecordBatch('t', 0, two, 0, undefined).valueColumn).toBeUndefined()
  })

  it('writes the CRC-32C Kafka checks, over everything after the CRC field', () => {
    const raw = encodeRecordBatch(pending(records), 0, 2, crc32c as (b: Buffer) => number, undefined)
    expect(raw.readUInt32BE(17)).toBe((crc32c as (b: Buffer) => number)(raw.subarray(21)) >>> 0)
    expect(raw.readInt32BE(8)).toBe(raw.length - 12)
    expect(raw.readInt32BE(57)).toBe(2)
  })

  it('reads only [from, until) and reports where the next fetch starts', () => {
    const raw = encodeRecordBatch(pending(records), 0, records.length, crc32c as (b: Buffer) => number, undefined)
    const middle = new KafkaRecordBatch('t', 0, raw, 1, 3)
    expect([middle.offsetAt(0), middle.offsetAt(1), middle.count, middle.nextOffset]).toEqual([1, 2, 2, 3])
  })

  it("encodes what the client library's own decoder reads back exactly (gzip too)", async () => {
    const {compressionsAlgorithms} = await import('@platformatic/kafka')
    const gzip = {bits: 1, compress: (data: Buffer) => compressionsAlgorithms.gzip.compressSync(data) as Buffer}
    for (const compression of [undefined, gzip]) {
      const raw = encodeRecordBatch(pending(records), 0, records.length, crc32c as (b: Buffer) => number, compression)
      const [batch] = readRecordsBatches(Reader.from(raw))
      expect(batch!.crc).toBe((crc32c as (b: Buffer) => number)(raw.subarray(21)) >>> 0)
      expect(batch!.records).toHaveLength(records.length)
      batch!.records.forEach((r, i) => {
        const expected = records[i]!
        expect(batch!.firstTimestamp + r.timestampDelta).toBe(BigInt(expected.timestamp))
        expect(r.offsetDelta).toBe(i)
        expect(r.key === null || r.key === undefined ? null : Buffer.from(r.key)).toEqual(expected.key ?? null)
        expect(r.value === null || r.value === undefined ? null : Buffer.from(r.value)).toEqual(expected.value)
        expect(r.headers.map(([k, v]) => ({key: Buffer.from(k).toString(), value: v === null || v === undefined ? null : Buffer.from(v)}))).toEqual(expected.headers ?? [])
      })
    }
  })

  it('encodes a produce request with the batch in place, byte for byte as the request built around a separate batch', () => {
    const crc = crc32c as (b: Buffer) => number
    const producer = {id: 4242n, epoch: 3, baseSequence: 77}
    // 4 records (one-byte lengths) and 2,000 (a batch over 16 KiB: a three-byte length varint).
    const many = Array.from({length: 2000}, (_, i) => ({value: Buffer.from(`record ${i}`), timestamp: 1_700_000_000_000 + i}))
    for (const list of [records, many]) {
      const batch = pending(list)
      const request = {topic: 'orders.eu', acks: -1, timeoutMs: 30_000, partition: 5}
      const inPlace = encodeProduceRequest(request, batch, 1, list.length, crc, undefined, producer)
      const separate = produceRequestBody('orders.eu', -1, 30_000, [{partition: 5, records: encodeRecordBatch(batch, 1, list.length, crc, undefined, producer)}])
      expect(Buffer.concat(inPlace).equals(separate)).toBe(true)
    }
  })

  it('reads a fetch of many batches into columns sized from their headers, headers kept per record', () => {
    const crc = crc32c as (b: Buffer) => number
    const first = encodeRecordBatch(pending(records), 0, records.length, crc, undefined)
    const second = encodeRecordBatch(pending(records.slice(0, 1)), 0, 1, crc, undefined)
    second.writeBigInt64BE(4n, 0) // its base offset, as the broker assigns it
    const decoded = new KafkaRecordBatch('t', 0, Buffer.concat([first, second]), 0, undefined)
    expect(decoded.count).toBe(5)
    expect(decoded.nextOffset).toBe(5)
    expect(decoded.headersAt(3)).toEqual(records[3]!.headers)
    expect(decoded.headersAt(4)).toEqual([])
    expect(recordAt(decoded, 4)).toMatchObject({offset: 4, value: records[0]!.value})
  })

  it('refuses a fetched batch that does not match its CRC, after the batches before it', () => {
    const first = encodeRecordBatch(pending(records.slice(0, 2)), 0, 2, crc32c as (b: Buffer) => number, undefined)
    const second = encodeRecordBatch(pending(records.slice(2)), 0, 2, crc32c as (b: Buffer) => number, undefined)
    second.writeBigInt64BE(2n, 0) // its base offset follows the first batch
    const damaged = Buffer.from(second)
    damaged[damaged.length - 5] = damaged[damaged.length - 5]! ^ 0x01
    const fetched = new KafkaRecordBatch('t', 3, Buffer.concat([first, damaged]), 0, undefined)
    expect([fetched.count, fetched.nextOffset]).toEqual([2, 2])
    expect(fetched.damage?.message).toBe('Kafka returned a damaged record batch for t/3, offsets 2-3: it does not match its CRC')
    expect(new KafkaRecordBatch('t', 3, Buffer.concat([first, second]), 0, undefined)).toMatchObject({count: 4, damage: undefined})
  })

  it('encodes plain lines packed by produce (addPacked) byte for byte as the same records added one by one', () => {
    const lines = ['first', '', 'x'.repeat(200), 'last line']
    const input = Buffer.from(lines.join('\n'))
    const packed = new PendingBatch(0)
    const columns = new PendingBatch(0)
    // A small packed buffer, so that it grows while the lines are added.
    const storage = () => new PackedValues(8, 2)
    let start = 0
    lines.forEach((line, i) => {
      const timestamp = 1_700_000_000_000 + i * 7
      packed.addPacked(input, start, start + line.length, timestamp, storage)
      columns.add(Buffer.from(line), null, null, timestamp, line.length)
      start += line.length + 1
    })
    const crc = crc32c as (b: Buffer) => number
    for (const [from, to] of [[0, 4], [1, 3], [2, 4]] as const) {
      expect(encodeRecordBatch(packed, from, to, crc, undefined)).toEqual(encodeRecordBatch(columns, from, to, crc, undefined))
      // The produce path encodes in place, inside the request.
      const request = {topic: 't', acks: -1, timeoutMs: 30_000, partition: 0}
      expect(Buffer.concat(encodeProduceRequest(request, packed, from, to, crc, undefined))).toEqual(Buffer.concat(encodeProduceRequest(request, columns, from, to, crc, undefined)))
      for (let i = from; i < to; i++) expect(recordBodySize(packed, i, 1_700_000_000_000, i - from)).toBe(recordBodySize(columns, i, 1_700_000_000_000, i - from))
    }
    const decoded = new KafkaRecordBatch('t', 0, encodeRecordBatch(packed, 1, 4, crc, undefined), 0, undefined)
    expect(Array.from({length: decoded.count}, (_, i) => recordAt(decoded, i).value!.toString())).toEqual(lines.slice(1))
  })

  it('encodes plain lines laid out as Kafka records while split (Backend.packedLayout) byte for byte as the same records added one by one', () => {
    // Timestamps that go back and far ahead (negative and multi-byte deltas); lines of 0, 63/64 (the varint
    // length's step) and 200 bytes; more records than offset deltas of one byte (128).
    const lines = ['first', '', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(200), ...Array.from({length: 140}, (_, i) => `line ${i}`)]
    const timestamps = lines.map((_, i) => (i === 1 ? 1_600_000_000_000 : i === 2 ? 1_800_000_000_000 : 1_700_000_000_000 + i * 7))
    const input = Buffer.from(lines.join('\n'))
    const laidOut = new PendingBatch(0)
    const columns = new PendingBatch(0)
    // Small, so that it grows while the lines are added.
    const storage = () => new KafkaRecordsLayout(8, 2)
    let start = 0
    lines.forEach((line, i) => {
      laidOut.addPacked(input, start, start + line.length, timestamps[i]!, storage)
      columns.add(Buffer.from(line), null, null, timestamps[i]!, line.length)
      start += line.length + 1
    })
    // spool's CRC-32C, which continues a checksum over the parts of a request (the client's does not).
    const crc = spoolCrc32c
    const count = lines.length
    const producer = {id: 7n, epoch: 1, baseSequence: 40}
    expect(encodeRecordBatch(laidOut, 0, count, crc, undefined, producer)).toEqual(encodeRecordBatch(columns, 0, count, crc, undefined, producer))
    const request = {topic: 't', acks: -1, timeoutMs: 30_000, partition: 0}
    // Sent from its own buffer: the request is the header, that buffer, and the request's end.
    const parts = encodeProduceRequest(request, laidOut, 0, count, crc, undefined, producer)
    expect(parts).toHaveLength(3)
    expect(parts[1]!.buffer).toBe(laidOut.packed!.data.buffer)
    expect(Buffer.concat(parts)).toEqual(Buffer.concat(encodeProduceRequest(request, columns, 0, count, crc32c as (b: Buffer) => number, undefined, producer)))
    // With acks=0 the request is done once handed to the socket, before it is written: it takes a copy.
    const unacknowledged = {...request, acks: 0}
    const copied = encodeProduceRequest(unacknowledged, laidOut, 0, count, crc, undefined)
    expect(copied).toHaveLength(1)
    expect(copied[0]).toEqual(Buffer.concat(encodeProduceRequest(unacknowledged, columns, 0, count, crc, undefined)))
    const gzip = {bits: 1, compress: (data: Buffer) => compressionsAlgorithms.gzip.compressSync(data) as Buffer}
    const decoded = new KafkaRecordBatch('t', 0, encodeRecordBatch(laidOut, 0, count, crc, gzip), 0, undefined)
    expect(Array.from({length: decoded.count}, (_, i) => recordAt(decoded, i).value!.toString())).toEqual(lines)
    // Keyed lines (-K, -k): keys from the line, from elsewhere, empty, and none.
    const keyed = new PendingBatch(0)
    const keyedColumns = new PendingBatch(0)
    const fixedKey = Buffer.from('fixed-key')
    const keyedStorage = () => new KafkaRecordsLayout(8, 2)
    start = 0
    lines.forEach((line, i) => {
      const keyEnd = Math.min(line.length, i % 7)
      const key = i % 3 === 0 ? null : i % 3 === 1 ? input.subarray(start, start + keyEnd) : fixedKey
      if (i % 3 === 1) keyed.addPackedKeyed(input, start, start + keyEnd, input, start + keyEnd, start + line.length, timestamps[i]!, keyedStorage)
      else keyed.addPackedKeyed(key, 0, key?.length ?? 0, input, start + (i % 3 === 1 ? keyEnd : 0), start + line.length, timestamps[i]!, keyedStorage)
      const value = i % 3 === 1 ? line.slice(keyEnd) : line
      keyedColumns.add(Buffer.from(value), key === null ? null : Buffer.from(key), null, timestamps[i]!, value.length + (key?.length ?? 0))
      start += line.length + 1
    })
    expect(Buffer.concat(encodeProduceRequest(request, keyed, 0, count, crc, undefined, producer))).toEqual(
      Buffer.concat(encodeProduceRequest(request, keyedColumns, 0, count, crc32c as (b: Buffer) => number, undefined, producer)),
    )
    const decodedKeyed = new KafkaRecordBatch('t', 0, encodeRecordBatch(keyed, 0, count, crc, undefined), 0, undefined)
    expect(recordAt(decodedKeyed, 2).key!.toString()).toBe('fixed-key')
    expect(recordAt(decodedKeyed, 3).key).toBeNull()
    // The local store's layout keeps values only.
    expect(() => new PackedValues(8, 2).appendKeyed(fixedKey, 0, 9, input, 0, 1, 0, 0)).toThrow(/no keys/)
    // Its deltas are the batch's: it is planned whole, whatever the byte limit, and never in part.
    expect(planRecords(laidOut, 0, count, 100).to).toBe(count)
    expect(() => planRecords(laidOut, 1, count)).toThrow(/sent whole/)
  })

  it('release frees fetched bytes that are a buffer of their own, and leaves a view of a larger one alone', () => {
    const raw = encodeRecordBatch(pending(records), 0, records.length, crc32c as (b: Buffer) => number, undefined)
    const own = Buffer.alloc(raw.length) // not from Node's pool: a buffer of its own
    raw.copy(own)
    new KafkaRecordBatch('t', 0, own, 0, undefined).release()
    expect(own.byteLength).toBe(0)
    const shared = Buffer.concat([raw, Buffer.alloc(8)])
    const view = shared.subarray(0, raw.length)
    const batch = new KafkaRecordBatch('t', 0, view, 0, undefined)
    batch.release()
    expect(view.equals(raw)).toBe(true)
    expect(recordAt(batch, 0).value!.toString()).toBe('plain')
  })

  it('stops at a batch the fetch cut short, to be read whole by the next fetch', () => {
    const raw = encodeRecordBatch(pending(records), 0, records.length, crc32c as (b: Buffer) => number, undefined)
    const cut = new KafkaRecordBatch('t', 0, raw.subarray(0, raw.length - 10), 0, undefined)
    expect([cut.count, cut.nextOffset]).toEqual([0, 0])
  })
})
