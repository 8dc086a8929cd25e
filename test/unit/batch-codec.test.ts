import {describe, expect, it} from 'vitest'
import {BatchDamage, encodeBatch, NewlineSeparatedValues, StoredBatch, timestampBounds} from '../../src/backends/local/batch-codec.js'
import {type Header, PendingBatch, recordAt, recordSize} from '../../src/core/record.js'

let seed = 11
const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
const bytes = (max: number) => Buffer.from(Array.from({length: Math.floor(random() * max)}, () => Math.floor(random() * 256)))

interface Input {
  value: Buffer | null
  key: Buffer | null
  headers: Header[] | null
  timestamp: number
}

function randomRecords(n: number, withKeys: boolean, withHeaders: boolean): Input[] {
  return Array.from({length: n}, (_, i) => ({
    value: random() < 0.1 ? null : bytes(200),
    key: withKeys && random() < 0.8 ? bytes(20) : null,
    headers: withHeaders && random() < 0.7 ? Array.from({length: Math.floor(random() * 4)}, (_, h) => ({key: `h${h % 2}`, value: random() < 0.2 ? null : bytes(10)})) : null,
    timestamp: 1764064800000 + i * 3 - Math.floor(random() * 5),
  }))
}

function roundTrip(inputs: Input[], scratch?: Buffer) {
  const pending = new PendingBatch(4)
  for (const r of inputs) pending.add(r.value, r.key, r.headers, r.timestamp, recordSize(r.key, r.value, r.headers))
  const blob = Buffer.from(encodeBatch(pending, scratch))
  return {pending, blob, stored: new StoredBatch('t', 4, blob, 1000)}
}

describe('batch codec', () => {
  it.each([
    ['values only', false, false],
    ['with keys', true, false],
    ['with headers', false, true],
    ['with keys and headers', true, true],
  ])('round-trips random records (%s): bytes, nulls, empties, duplicate headers, timestamps, offsets', (_name, keys, headers) => {
    for (const n of [1, 2, 17, 500]) {
      const inputs = randomRecords(n, keys, headers)
      const {stored} = roundTrip(inputs)
      expect(stored.count).toBe(n)
      inputs.forEach((input, i) => {
        const r = recordAt(stored, i)
        expect(r.offset).toBe(1000 + i)
        expect(r.partition).toBe(4)
        expect(r.timestamp).toBe(input.timestamp)
        expect(r.value).toEqual(input.value)
        expect(r.key).toEqual(input.key)
        expect(r.headers).toEqual(input.headers ?? [])
        expect(stored.valueLength(i)).toBe(input.value?.length ?? -1)
        const target = Buffer.alloc(300, 0xee)
        const copied = stored.copyValue(i, target, 5)
        expect(copied).toBe(input.value === null ? -1 : input.value.length)
        if (input.value) expect(target.subarray(5, 5 + copied).equals(input.value)).toBe(true)
      })
    }
  })

  it('reads a window of a batch without copying it: offsets and records line up', () => {
    const inputs = randomRecords(50, true, true)
    const {blob} = roundTrip(inputs)
    const window = new StoredBatch('t', 4, blob, 1000, 10, 20)
    expect(window.count).toBe(10)
    expect(window.offsetAt(0)).toBe(1010)
    expect(window.valueAt(9)).toEqual(inputs[19]!.value)
    expect(window.headersAt(0)).toEqual(inputs[10]!.headers ?? [])
    expect(new StoredBatch('t', 4, blob, 1000, 45, 999).count).toBe(5)
  })

  it('encodes into a scratch buffer when it is large enough, with the same bytes', () => {
    const inputs = randomRecords(100, true, true)
    const plain = roundTrip(inputs).blob
    const scratch = Buffer.alloc(1 << 20, 0xaa)
    expect(roundTrip(inputs, scratch).blob.equals(plain)).toBe(true)
    expect(roundTrip(inputs, Buffer.alloc(8)).blob.equals(plain)).toBe(true)
  })

  it('keeps large values intact', () => {
    const big = Buffer.alloc(1024 * 1024, 7)
    big[12345] = 1
    const {stored} = roundTrip([{value: big, key: null, headers: null, timestamp: 5}])
    expect(stored.valueAt(0)!.equals(big)).toBe(true)
  })

  it('knows the timestamp bounds of a batch', () => {
    const {pending} = roundTrip([
      {value: null, key: null, headers: null, timestamp: 30},
      {value: null, key: null, headers: null, timestamp: 10},
      {value: null, key: null, headers: null, timestamp: 20},
    ])
    expect(timestampBounds(pending)).toEqual({min: 10, max: 30})
  })
})

describe('batch codec: plain lines with a newline after each value (store version 9)', () => {
  const lines = ['first', '', 'a line with\ta tab', 'x'.repeat(70_000), 'é', ''].map((line) => Buffer.from(line))

  function packed(values: Buffer[]): Buffer {
    const pending = new PendingBatch(0)
    // A small buffer, so that it grows while the lines are added.
    const storage = () => new NewlineSeparatedValues(8, 2)
    values.forEach((value, i) => pending.addPacked(value, 0, value.length, 1764064800000 + i, storage))
    return Buffer.from(encodeBatch(pending))
  }

  it('round-trips the values; the values column is each value and a newline, back to back', () => {
    const blob = packed(lines)
    const stored = new StoredBatch('t', 0, blob, 7)
    expect(stored.count).toBe(lines.length)
    lines.forEach((line, i) => {
      expect(stored.valueAt(i)).toEqual(line)
      expect(stored.timestampAt(i)).toBe(1764064800000 + i)
      expect(stored.offsetAt(i)).toBe(7 + i)
    })
    const column = stored.valueColumn()
    expect(column.separator).toBe(0x0a)
    const end = column.starts[lines.length - 1]! + column.lengths[lines.length - 1]! + 1
    expect(blob.subarray(column.starts[0], end)).toEqual(Buffer.from(lines.map((line) => `${line}\n`).join('')))
    expect(end).toBe(blob.length)
  })

  it('copies lines that follow one another in a chunk as one run, by settle(): later changes to the chunks do not reach the batch', () => {
    const first = Buffer.from('one\ntwo\nthree\r\nfour\n\nsix')
    const second = Buffer.from('seven\neight\n')
    const pending = new PendingBatch(0)
    // A small buffer, so that it grows while a run waits to be copied.
    const storage = () => new NewlineSeparatedValues(4, 2)
    const add = (chunk: Buffer, line: string, from: number) => pending.addPacked(chunk, from, from + line.length, 1764064800000, storage)
    add(first, 'one', 0)
    add(first, 'two', 4)
    // "three" without its \r (produce --crlf): the next line does not follow it, a run of its own.
    add(first, 'three', 8)
    add(first, 'four', 15)
    add(first, '', 20)
    add(first, 'six', 21)
    add(second, 'seven', 0)
    add(second, 'eight', 6)
    pending.packed!.settle()
    first.fill(0x21)
    second.fill(0x21)
    const stored = new StoredBatch('t', 0, Buffer.from(encodeBatch(pending)), 0)
    expect(Array.from({length: stored.count}, (_, i) => stored.valueAt(i)!.toString())).toEqual(['one', 'two', 'three', 'four', '', 'six', 'seven', 'eight'])
  })

  it('refuses a batch whose newline is not where a length says (a damaged length)', () => {
    const blob = packed(lines)
    const {starts} = new StoredBatch('t', 0, blob, 0).valueColumn()
    const lengthAt = 8 + lines.length * 8
    const longer = Buffer.from(blob)
    longer.writeInt32LE(lines[0]!.length + 1, lengthAt)
    longer.writeInt32LE(-1, lengthAt + 4)
    expect(() => new StoredBatch('t', 0, longer, 0)).toThrow(BatchDamage)
    const noNewline = Buffer.from(blob)
    noNewline[starts[0]! + lines[0]!.length] = 0x20
    expect(() => new StoredBatch('t', 0, noNewline, 0)).toThrow(BatchDamage)
  })
})
