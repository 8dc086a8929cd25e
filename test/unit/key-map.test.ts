import {describe, expect, it} from 'vitest'
import {encodeBatch, StoredBatch} from '../../src/backends/local/batch-codec.js'
import {buildKeyMap, chunkRuns, indexesWithHash, parseKeyMap, recordsFromRuns} from '../../src/backends/local/key-map.js'
import {keyHash} from '../../src/core/key-selection.js'
import {type Header, PendingBatch, recordAt, recordSize} from '../../src/core/record.js'

// The record map (store version 7): a read by key locates its records from the map and reads only the
// chunks they lie in. Compared here with the whole batch decoded, record by record.
const b = (text: string) => Buffer.from(text)

/** 700 records (11 groups of 64): keys k0..k40 with null keys and empty keys among them, headers on some. */
function batch(): {blob: Buffer; keys: (Buffer | null)[]} {
  const pending = new PendingBatch(0)
  for (let i = 0; i < 700; i++) {
    const key = i % 13 === 0 ? null : i % 29 === 0 ? b('') : b(`k${i % 41}`)
    const value = i % 17 === 0 ? null : b(`value ${i} ${'x'.repeat(i % 90)}`)
    const headers: Header[] | null = i % 3 === 0 ? [{key: 'n', value: b(String(i))}, {key: 'empty', value: null}] : null
    pending.add(value, key, headers, 1_700_000_000_000 + i, recordSize(key, value, headers))
  }
  return {blob: Buffer.from(encodeBatch(pending)), keys: pending.keys!}
}

/** What a read by key returns for `wanted`, reading the chunk runs out of the blob as SQL substr would. */
function readByKey(blob: Buffer, map: Buffer, count: number, wanted: Buffer[]) {
  const parsed = parseKeyMap(map, count)
  const indexes = indexesWithHash(parsed, wanted.map(keyHash), 0, count)
  if (indexes.length === 0) return []
  const runs = chunkRuns(parsed, indexes)
  return recordsFromRuns(parsed, runs, runs.map(([from, to]) => blob.subarray(from, to)), indexes, wanted, {topic: 't', partition: 0, baseOffset: 1000})
}

describe('the record map of a batch', () => {
  const {blob, keys} = batch()
  const whole = new StoredBatch('t', 0, blob, 1000)
  const all = Array.from({length: whole.count}, (_, i) => recordAt(whole, i))

  it('finds exactly the records of a key, with their timestamps, values (null too) and headers, reading only some chunks', () => {
    const map = buildKeyMap(blob, keys)
    for (const wanted of [['k0'], ['k7'], ['k40'], ['k3', 'k5'], [''], ['absent']]) {
      const found = readByKey(blob, map, 700, wanted.map(b))
      expect(found).toEqual(all.filter((r) => r.key !== null && wanted.includes(r.key.toString())))
    }
    const parsed = parseKeyMap(map, 700)
    const read = chunkRuns(parsed, indexesWithHash(parsed, [keyHash(b('k7'))], 0, 700)).reduce((sum, [from, to]) => sum + to - from, 0)
    expect(read).toBeLessThan(blob.length)
  })

  it('is the same built from the partitioner hashes as from the keys (what spool check rebuilds)', () => {
    expect(buildKeyMap(blob, keys, keys.map((key) => (key ? keyHash(key) : 0)))).toEqual(buildKeyMap(blob, keys))
  })

  it('tells apart keys whose 16-bit hashes collide by their bytes', () => {
    const seen = new Map<number, string>()
    let pair: [string, string] | undefined
    for (let i = 0; !pair; i++) {
      const key = `c${i}`
      const low = keyHash(b(key)) & 0xffff
      const other = seen.get(low)
      if (other) pair = [other, key]
      else seen.set(low, key)
    }
    const pending = new PendingBatch(0)
    for (let i = 0; i < 10; i++) pending.add(b(`v${i}`), b(pair[i % 2]!), null, i, 4)
    const encoded = Buffer.from(encodeBatch(pending))
    const found = readByKey(encoded, buildKeyMap(encoded, pending.keys!), 10, [b(pair[0])])
    expect(found.map((r) => r.value?.toString())).toEqual(['v0', 'v2', 'v4', 'v6', 'v8'])
  })

  it('a changed byte in a chunk read, or in a record position, is damage, never other bytes', () => {
    const map = buildKeyMap(blob, keys)
    const target = all.find((r) => r.key?.toString() === 'k7')!
    const damaged = Buffer.from(blob)
    const at = damaged.indexOf(target.value!)
    damaged[at] ^= 1
    expect(() => readByKey(damaged, map, 700, [b('k7')])).toThrow('the batch does not match its checksum')
    const moved = Buffer.from(map)
    moved.writeUInt32LE(moved.readUInt32LE(16) + 1, 16)
    expect(() => readByKey(blob, moved, 700, [b('k7')])).toThrow('its key map does not match its checksum')
    expect(() => parseKeyMap(map, 699)).toThrow('its key map holds 700 records where its row says 699')
  })
})
