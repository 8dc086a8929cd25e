import {describe, expect, it} from 'vitest'
import {encodeBatch, StoredBatch} from '../../src/backends/local/batch-codec.js'
import {buildRecordMap, chunkRuns, parseKeyMap, recordMapAndChecksum, recordsFromRuns} from '../../src/backends/local/key-map.js'
import {crc32c} from '../../src/core/checksum.js'
import {BUCKETS, batchKeys, bucketOf, postedOffsets, postingsFrom, segmentRows, tagBytes} from '../../src/backends/local/key-postings.js'
import {keyHash} from '../../src/core/key-selection.js'
import {PendingBatch, recordAt} from '../../src/core/record.js'

// Key postings (store version 8): a read by key finds a key's offsets in the segment rows of its bucket
// and reads those records through the record map (format 2). Compared here with the batches decoded.
const b = (text: string) => Buffer.from(text)

function pending(keys: Array<string | null>): {blob: Buffer; keys: (Buffer | null)[]} {
  const batch = new PendingBatch(0)
  keys.forEach((key, i) => batch.add(b(`value-${i}`), key === null ? null : b(key), null, 1_700_000_000_000 + i, 16))
  return {blob: Buffer.from(encodeBatch(batch)), keys: batch.keys!}
}

/** Batches that follow on from offset 1000, and their segment. */
function segment(batches: Array<Array<string | null>>) {
  let base = 1000
  const written = batches.map((keys) => {
    const batch = {...pending(keys), base}
    base += keys.length
    return batch
  })
  const rows = segmentRows(written.map((w) => batchKeys(w.base, w.keys, w.keys.length)).filter((k) => k !== undefined))
  return {written, rows, first: 1000, end: base}
}

/** What a read by key returns for `wanted` from a segment: the offsets its postings name, then each batch's records through its map. */
function readByKey(seg: ReturnType<typeof segment>, wanted: Buffer[], from = seg.first, to = seg.end) {
  const hashes = wanted.map(keyHash)
  const offsets = [...new Set(hashes.map(bucketOf))]
    .flatMap((bucket) => {
      const row = seg.rows.find((r) => r.bucket === bucket)
      return row ? postedOffsets(row.postings, seg.first, hashes, from, to) : []
    })
    .sort((x, y) => x - y)
  return seg.written.flatMap(({blob, keys, base}) => {
    const indexes = offsets.filter((o) => o >= base && o < base + keys.length).map((o) => o - base)
    if (indexes.length === 0) return []
    const map = parseKeyMap(buildRecordMap(blob), keys.length)
    const runs = chunkRuns(map, indexes)
    return recordsFromRuns(map, runs, runs.map(([s, e]) => blob.subarray(s, e)), indexes, wanted, {topic: 't', partition: 0, baseOffset: base})
  })
}

const decoded = (seg: ReturnType<typeof segment>) =>
  seg.written.flatMap(({blob, base}) => {
    const whole = new StoredBatch('t', 0, blob, base)
    return Array.from({length: whole.count}, (_, i) => recordAt(whole, i))
  })

describe('the key postings of a segment of batches', () => {
  it('name exactly the records of a key across the batches; keyless records and empty keys apart; one row per bucket with keys', () => {
    const seg = segment([
      Array.from({length: 3000}, (_, i) => (i % 11 === 0 ? null : i % 23 === 0 ? '' : `k${i % 97}`)),
      Array.from({length: 500}, (_, i) => `k${i % 7}`),
      Array.from({length: 40}, (_, i) => (i % 2 ? null : `k${i}`)),
    ])
    const all = decoded(seg)
    for (const wanted of [['k0'], ['k96'], ['k5', 'k50'], [''], ['absent']])
      expect(readByKey(seg, wanted.map(b))).toEqual(all.filter((r) => r.key !== null && wanted.includes(r.key.toString())))
    // A window of offsets: only what lies in it.
    expect(readByKey(seg, [b('k3')], 3500, 3900)).toEqual(all.filter((r) => r.key?.toString() === 'k3' && r.offset >= 3500 && r.offset < 3900))
    expect(seg.rows.length).toBeLessThanOrEqual(BUCKETS)
    expect(seg.rows.map((r) => r.bucket)).toEqual([...seg.rows.map((r) => r.bucket)].sort((x, y) => x - y))
    // The same rows from the partitioner's hashes (produce) and from the keys (spool check).
    const {keys} = seg.written[0]!
    expect(batchKeys(0, keys, keys.length, keys.map((k) => (k ? keyHash(k) : 0)))).toEqual(batchKeys(0, keys, keys.length))
  })

  it('a keyless batch has no keys to post; a one-record batch one row', () => {
    expect(batchKeys(0, [null, null], 2)).toBeUndefined()
    expect(batchKeys(0, null, 5)).toBeUndefined()
    expect(segmentRows([batchKeys(7, [b('only')], 1)!])).toHaveLength(1)
  })

  it('tells apart keys whose hashes collide by their bytes', () => {
    const seen = new Map<number, string>()
    let pair: [string, string] | undefined
    for (let i = 0; !pair; i++) {
      const key = `c${i}`
      const hash = keyHash(b(key))
      const other = seen.get(hash)
      if (other) pair = [other, key]
      else seen.set(hash, key)
    }
    const seg = segment([Array.from({length: 10}, (_, i) => pair![i % 2]!)])
    expect(seg.rows).toHaveLength(1)
    // The postings name all ten records; the key's bytes leave five.
    expect(postedOffsets(seg.rows[0]!.postings, seg.first, [keyHash(b(pair[0]))], 0, 1e9)).toHaveLength(10)
    expect(readByKey(seg, [b(pair[0])]).map((r) => r.value?.toString())).toEqual(['value-0', 'value-2', 'value-4', 'value-6', 'value-8'])
  })

  it('counts a tag only where it is a whole entry', () => {
    // Three entries (u24 tags, then u24 offsets) whose bytes hold a wanted tag across two entries and
    // among the offsets: no record is named.
    const key = b('wanted')
    const tag = tagBytes(keyHash(key))
    const row = (tags: Buffer[], deltas: number[]) => Buffer.concat([...tags, ...deltas.map((d) => Buffer.from([d & 0xff, (d >> 8) & 0xff, d >> 16]))])
    const across = row([Buffer.from([9, 9, tag[0]!]), Buffer.from([tag[1]!, tag[2]!, 9]), Buffer.from([7, 7, 7])], [1, 2, tag[0]! | (tag[1]! << 8) | (tag[2]! << 16)])
    expect(postedOffsets(across, 0, [keyHash(key)], 0, 2 ** 40)).toEqual([])
    const whole = row([Buffer.from([9, 9, 9]), tag, Buffer.from([7, 7, 7])], [1, 5, 6])
    expect(postedOffsets(whole, 100, [keyHash(key)], 0, 2 ** 40)).toEqual([105])
    expect(() => postedOffsets(whole, 100, [keyHash(key)], 0, 2 ** 40, 105)).toThrow('its key postings name offset 105, past their segment')
    expect(() => postedOffsets(whole.subarray(0, 17), 0, [1], 0, 10)).toThrow('its key postings have an unknown format')
  })

  it('without the postings of batches retention deleted, a segment row is the row rebuilt from the batches left', () => {
    const seg = segment([Array.from({length: 100}, (_, i) => `k${i % 9}`), Array.from({length: 100}, (_, i) => `k${i % 9}`)])
    const left = segmentRows([batchKeys(1100, seg.written[1]!.keys, 100)!], seg.first)
    const cut = seg.rows.map((r) => ({bucket: r.bucket, postings: postingsFrom(r.postings, seg.first, 1100)})).filter((r) => r.postings.length > 0)
    expect(cut).toEqual(left)
  })

  it('a produce takes the batch checksum from the record map\'s chunk checksums: the same as over the whole blob', () => {
    for (const count of [1, 40, 3000, 20000]) {
      const {blob} = pending(Array.from({length: count}, (_, i) => (i % 5 === 0 ? null : `key-${i % 300}`)))
      const {map, crc} = recordMapAndChecksum(blob)
      expect(map.equals(buildRecordMap(blob)), String(count)).toBe(true)
      expect(crc, `${count} records, ${blob.length} bytes`).toBe(crc32c(blob))
    }
  })

  it('the same keys from the partitioner\'s hashes as from the keys, with keyless records first, between and last', () => {
    for (const keys of [
      ['a', 'b', null, 'c', null],
      [null, 'a', 'b'],
      ['a', 'b', 'c'],
      [null, null],
    ]) {
      const buffers = keys.map((key) => (key === null ? null : b(key)))
      const hashes = buffers.map((key) => (key === null ? 0 : keyHash(key)))
      expect(batchKeys(7, buffers, keys.length, hashes), JSON.stringify(keys)).toEqual(batchKeys(7, buffers, keys.length))
    }
    expect(batchKeys(7, [null, b('x'), null], 3, [0, keyHash(b('x')), 0])?.indexes).toEqual(Uint32Array.from([1]))
    expect(batchKeys(7, [b('x'), b('y')], 2, [keyHash(b('x')), keyHash(b('y'))])?.indexes).toBeUndefined()
  })
})
