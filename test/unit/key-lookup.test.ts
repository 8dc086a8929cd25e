import Database from 'better-sqlite3'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {encodeBatch, StoredBatch} from '../../src/backends/local/batch-codec.js'
import {candidateProbes, candidateQuery, keyFilter, mayHoldKey} from '../../src/backends/local/key-index.js'
import {KeySelection, keyHash} from '../../src/core/key-selection.js'
import {type Header, PendingBatch, recordSize} from '../../src/core/record.js'

const b = (text: string) => Buffer.from(text)

function stored(keys: (string | null)[], headers = false, first = 0, end?: number): StoredBatch {
  const pending = new PendingBatch(0)
  keys.forEach((key, i) => {
    const k = key === null ? null : b(key)
    const h: Header[] | null = headers && i % 2 === 0 ? [{key: 'trace', value: b(`user-42${i}`)}] : null
    pending.add(b(`value ${i} user-42`), k, h, 1000 + i, recordSize(k, b(`value ${i}`), h))
  })
  return new StoredBatch('t', 0, Buffer.from(encodeBatch(pending)), 0, first, end)
}

/** What the search must find: the records whose key is exactly one of `wanted`, compared one by one. */
function byComparison(batch: StoredBatch, wanted: string[]): number[] {
  const picked: number[] = []
  for (let i = 0; i < batch.count; i++) {
    const key = batch.keyAt(i)
    if (key !== null && wanted.some((w) => b(w).equals(key))) picked.push(i)
  }
  return picked
}

describe('finding a key in a stored batch (the key column searched in place)', () => {
  const keys = ['user-4', 'user-42', null, 'user-424', 'ser-42', 'user-42', '', 'ab', 'cd', 'user-42x', 'xuser-42', null, 'user-42']

  it.each([
    [['user-42'], [1, 5, 12]],
    [['user-4'], [0]],
    [['ser-42'], [4]],
    // "ab" + "cd" lie side by side in the column: "bc" and "abcd" are not keys.
    [['bc'], []],
    [['abcd'], []],
    [[''], [6]],
    [['user-424', 'user-4'], [0, 3]],
    [['nowhere'], []],
  ])('%j picks records %j: prefixes, suffixes, keys side by side, null and empty keys', (wanted, expected) => {
    for (const headers of [false, true]) {
      const batch = stored(keys, headers)
      expect(batch.indexesWithKey(wanted.map(b))).toEqual(expected)
      expect(byComparison(batch, wanted)).toEqual(expected)
    }
  })

  it('counts from the start of a window and keeps to it', () => {
    const batch = stored(keys, true, 2, 12)
    expect(batch.indexesWithKey([b('user-42')])).toEqual([3])
    expect(batch.indexesWithKey([b('user-4')])).toEqual([])
  })

  it('a batch without keys has none', () => {
    expect(stored([null, null]).indexesWithKey([b('')])).toEqual([])
  })

  it('matches record-by-record comparison on random keys from a small alphabet (many partial hits)', () => {
    let seed = 7
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
    const word = () => (random() < 0.1 ? null : Array.from({length: Math.floor(random() * 4)}, () => 'ab'[Math.floor(random() * 2)]).join(''))
    for (let round = 0; round < 50; round++) {
      const batch = stored(Array.from({length: 200}, word), round % 2 === 0)
      const wanted = Array.from({length: 1 + (round % 3)}, () => word() ?? 'a')
      const unique = [...new Set(wanted)]
      expect(batch.indexesWithKey(unique.map(b))).toEqual(byComparison(batch, unique))
    }
  })

  it('a key given twice picks its records once', () => {
    const batch = stored(keys)
    const picked = new KeySelection([b('user-42'), b('user-42')]).select(batch)!
    expect(picked.count).toBe(3)
  })
})

describe('the key index filter tested inside SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-key-lookup-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const db = new Database(join(dir, 'index.db'))
  db.exec('CREATE TABLE batch_keys (topic_id INTEGER, partition INTEGER, base_offset INTEGER, record_count INTEGER, filter BLOB, PRIMARY KEY (topic_id, partition, base_offset))')
  const insert = db.prepare('INSERT INTO batch_keys VALUES (1, 0, ?, ?, ?)')
  const filters: Buffer[] = []
  for (let batch = 0; batch < 40; batch++) {
    const keys = Array.from({length: 1 + batch * 37}, (_, i) => (i % 5 === 4 ? null : b(`key-${batch}-${i}`)))
    const filter = keyFilter(keys, keys.length)
    filters.push(filter)
    insert.run(batch * 10_000, keys.length, filter)
  }
  // A row without keys, and one written with another number of probes: SQLite leaves that one to JavaScript.
  insert.run(400_000, 3, Buffer.alloc(0))
  const odd = Buffer.from(filters[5]!)
  odd[0] = 3
  insert.run(410_000, 186, odd)

  const query = (hashes: number[]) =>
    db.prepare<[Record<string, number | Buffer>], {base_offset: number; maybe: 0 | 1 | null}>(candidateQuery(hashes.length)).all({...candidateProbes(hashes), topic: 1, partition: 0, from: 0, limit: 1000})

  it('answers as mayHoldKey does for every row, for keys present, absent and several at once', () => {
    const sets = [[b('key-7-3')], [b('key-39-1000')], [b('absent')], [b('key-2-1'), b('key-30-30')], [b('nope-1'), b('nope-2'), b('key-12-0')]]
    for (let i = 0; i < 300; i++) sets.push([b(`probe-${i}`)])
    let maybes = 0
    for (const keys of sets) {
      const hashes = new KeySelection(keys).hashes
      const rows = query(hashes)
      expect(rows).toHaveLength(42)
      rows.slice(0, 40).forEach((row, batch) => {
        expect(row.maybe).toBe(mayHoldKey(filters[batch]!, hashes) ? 1 : 0)
        maybes += row.maybe!
      })
      expect(rows[40]!.maybe).toBe(0)
      expect(rows[41]!.maybe).toBeNull()
    }
    // Every present key's batch answered yes; some absent keys hit false positives too.
    expect(maybes).toBeGreaterThan(6)
  })

  it('a key with the same hash as an indexed key passes the filter (the bytes decide, not the hash)', () => {
    const seen = new Map<number, string>()
    let pair: [string, string] | undefined
    for (let i = 0; !pair; i++) {
      const key = `k-${i}`
      const other = seen.get(keyHash(b(key)))
      if (other !== undefined) pair = [other, key]
      else seen.set(keyHash(b(key)), key)
    }
    const [indexed, twin] = pair
    expect(keyHash(b(twin))).toBe(keyHash(b(indexed)))
    const filter = keyFilter([b(indexed)], 1)
    expect(mayHoldKey(filter, new KeySelection([b(twin)]).hashes)).toBe(true)
    const batch = stored([indexed, 'other', indexed])
    expect(new KeySelection([b(twin)]).select(batch)).toBeUndefined()
    expect(new KeySelection([b(indexed)]).select(batch)!.count).toBe(2)
  })
})
