import {crc32c} from '@platformatic/kafka'
import {describe, expect, it} from 'vitest'
import {KafkaRecordBatch} from '../../src/backends/kafka/fetch.js'
import {encodeRecordBatch} from '../../src/backends/kafka/record-batch.js'
import {PendingBatch, recordAt, recordSize} from '../../src/core/record.js'

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

  it('stops at a batch the fetch cut short, to be read whole by the next fetch', () => {
    const raw = encodeRecordBatch(pending(records), 0, records.length, crc32c as (b: Buffer) => number, undefined)
    const cut = new KafkaRecordBatch('t', 0, raw.subarray(0, raw.length - 10), 0, undefined)
    expect([cut.count, cut.nextOffset]).toEqual([0, 0])
  })
})
