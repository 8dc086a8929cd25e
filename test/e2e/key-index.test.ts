import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {StoredBatch} from '../../src/backends/local/batch-codec.js'
import {keyFilter} from '../../src/backends/local/key-index.js'
import {buildKeyMap} from '../../src/backends/local/key-map.js'
import {bucketOf, tagBytes} from '../../src/backends/local/key-postings.js'
import {SCHEMA_VERSION} from '../../src/backends/local/schema.js'
import {keyHash} from '../../src/core/key-selection.js'
import {envelopes, run, sh, start, tempHome, waitForOutput} from '../helpers/cli.js'

// Find by key (issue 13): --key on consume, tail, replay and pipe against real stores, compared with a
// full consume filtered here; the store's key index (table batch_keys) is looked at directly.
let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

type Envelope = Record<string, any>

/**
 * A 3-partition topic of several batches per partition (one produce per round): keys k0..k36 routed by
 * murmur2, a run pinned to partition 2 with -p whatever its keys, and keyless records.
 */
async function keyedTopic(topic = 'orders'): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const lines = Array.from({length: 400}, (_, i) => `k${(i * 7 + round) % 37}:r${round}-v${i}`).join('\n')
    const produced = await run(['produce', topic, '-K', ':', '--partitions', '3'], {env: t.env, input: lines})
    expect(produced.code).toBe(0)
  }
  const pinned = Array.from({length: 50}, (_, i) => `k${i % 5}:pinned-${i}`).join('\n')
  expect((await run(['produce', topic, '-K', ':', '-p', '2'], {env: t.env, input: pinned})).code).toBe(0)
  expect((await run(['produce', topic], {env: t.env, input: 'no-key-1\nno-key-2\n'})).code).toBe(0)
}

const withKey = (records: Envelope[], ...keys: string[]) => records.filter((r) => keys.includes(r.key))
const lines = (text: Buffer | string) => text.toString().split('\n').filter(Boolean)
const parsed = (text: Buffer) => lines(text).map((line) => JSON.parse(line) as Envelope)
const byPlace = (records: Envelope[]) => [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)

function indexRows(): Array<{partition: number; base_offset: number; record_count: number}> {
  const db = new Database(t.store, {readonly: true})
  try {
    return db.prepare('SELECT partition, base_offset, record_count FROM batch_keys ORDER BY partition, base_offset').all() as any
  } finally {
    db.close()
  }
}

/** The segments of key postings (store version 8): one per run of batches a writer indexed together. */
function segmentRows(): Array<{partition: number; first_offset: number; end_offset: number}> {
  const db = new Database(t.store, {readonly: true})
  try {
    return db.prepare('SELECT DISTINCT partition, first_offset, end_offset FROM batch_key_postings ORDER BY partition, first_offset').all() as any
  } finally {
    db.close()
  }
}

function batchRows(): Array<{partition: number; base_offset: number; record_count: number}> {
  const db = new Database(t.store, {readonly: true})
  try {
    return db.prepare('SELECT partition, base_offset, record_count FROM batches ORDER BY partition, base_offset').all() as any
  } finally {
    db.close()
  }
}

function mapRows(): Array<{partition: number; base_offset: number}> {
  const db = new Database(t.store, {readonly: true})
  try {
    return db.prepare('SELECT partition, base_offset FROM batch_key_map ORDER BY partition, base_offset').all() as any
  } finally {
    db.close()
  }
}

/** One partition, one batch of 5,000 records (about 40 chunks of 4 KiB): keys k0..k49 in turn. */
async function oneBigBatch(): Promise<void> {
  const input = Array.from({length: 5000}, (_, i) => `k${i % 50}:value-${i}-${'x'.repeat(20)}`).join('\n')
  expect((await run(['produce', 'big', '-K', ':', '--linger', '10s'], {env: t.env, input})).code).toBe(0)
  expect(batchRows()).toHaveLength(1)
}

/** Changes the batch blob (or its record map) of topic big behind spool's back. */
function alter(table: 'batches' | 'batch_key_map', change: (bytes: Buffer) => void): void {
  const column = table === 'batches' ? 'data' : 'map'
  const db = new Database(t.store)
  const bytes = Buffer.from((db.prepare(`SELECT ${column} AS b FROM ${table}`).get() as {b: Buffer}).b)
  change(bytes)
  db.prepare(`UPDATE ${table} SET ${column} = ?`).run(bytes)
  db.close()
}

/** Changes topic big's postings row of one bucket behind spool's back. */
function alterPostings(bucket: number, change: (bytes: Buffer) => void): void {
  const db = new Database(t.store)
  expect((db.prepare('SELECT count(*) AS n FROM batch_key_postings WHERE bucket = ?').get(bucket) as {n: number}).n).toBe(1)
  const bytes = Buffer.from((db.prepare('SELECT postings FROM batch_key_postings WHERE bucket = ?').get(bucket) as {postings: Buffer}).postings)
  change(bytes)
  db.prepare('UPDATE batch_key_postings SET postings = ? WHERE bucket = ?').run(bytes, bucket)
  db.close()
}

const stderrLines = (text: Buffer | string) => text.toString().split('\n').filter(Boolean)

describe('--key on the local store', () => {
  it('consume --key returns exactly the records of the key, in every partition (also where -p put them)', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    expect(all).toHaveLength(1252)
    // Every batch has its index row, and every batch with keys its record map.
    expect(indexRows()).toEqual(batchRows())
    const db = new Database(t.store, {readonly: true})
    const keyed = db.prepare('SELECT partition, base_offset FROM batch_keys WHERE length(filter) > 0 ORDER BY partition, base_offset').all()
    db.close()
    expect(keyed).toHaveLength(batchRows().length - 1)
    expect(mapRows()).toEqual(keyed)
    for (const key of ['k0', 'k3', 'k36']) {
      const found = await run(['consume', 'orders', '--key', key, '--json'], {env: t.env})
      expect(found.code).toBe(0)
      expect(found.stderr).toBe('')
      expect(parsed(found.stdout)).toEqual(withKey(all, key))
    }
    // k3 was also written to partition 2 with -p: those are found too.
    expect(new Set(withKey(all, 'k3').map((r) => r.partition)).size).toBeGreaterThan(1)
  })

  it('repeatable --key selects any of them; an absent key prints nothing and exits 0', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    const two = await run(['consume', 'orders', '--key', 'k1', '--key', 'k2', '--json'], {env: t.env})
    expect(two.code).toBe(0)
    expect(parsed(two.stdout)).toEqual(withKey(all, 'k1', 'k2'))
    const none = await run(['consume', 'orders', '--key', 'nobody'], {env: t.env})
    expect(none).toMatchObject({code: 0, stderr: ''})
    expect(none.stdout.toString()).toBe('')
    // Keyless records have no key to match, not even the empty one.
    const empty = await run(['consume', 'orders', '--key', ''], {env: t.env})
    expect(empty.stdout.toString()).toBe('')
  })

  it('works with --from/--until, -p, -c, --format and the value output', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    const windowed = await run(['consume', 'orders', '--key', 'k4', '--from', '100', '--until', '900', '--json'], {env: t.env})
    expect(parsed(windowed.stdout)).toEqual(withKey(all, 'k4').filter((r) => r.offset >= 100 && r.offset < 900))
    const onePartition = await run(['consume', 'orders', '--key', 'k4', '-p', '2', '--json'], {env: t.env})
    expect(parsed(onePartition.stdout)).toEqual(withKey(all, 'k4').filter((r) => r.partition === 2))
    const counted = await run(['consume', 'orders', '--key', 'k4', '-c', '3', '--format', '%p/%o %k=%v\\n'], {env: t.env})
    expect(lines(counted.stdout)).toEqual(withKey(all, 'k4').slice(0, 3).map((r) => `${r.partition}/${r.offset} ${r.key}=${r.value}`))
    const values = await run(['consume', 'orders', '--key', 'k4'], {env: t.env})
    expect(lines(values.stdout)).toEqual(withKey(all, 'k4').map((r) => r.value))
  })

  it('tail --key prints the newest records of the key, then only its new ones', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    const newest = byPlace(withKey(all, 'k5'))
      .sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset)
      .slice(-4)
    const tail = start(['tail', 'orders', '-n', '4', '--key', 'k5', '--json'], {env: t.env})
    try {
      const first = await waitForOutput(tail.stdout!, (text) => lines(text).length >= 4)
      expect(lines(first).map((line) => JSON.parse(line))).toEqual(newest)
      // Listening before the produce: output that comes while nobody listens is lost.
      const more = waitForOutput(tail.stdout!, (text) => text.includes('fresh'))
      expect((await run(['produce', 'orders', '-K', ':'], {env: t.env, input: 'k6:other\nk5:fresh\n'})).code).toBe(0)
      expect(await more).toMatch(/^\{[^\n]*"key":"k5","value":"fresh"[^\n]*\}\n$/)
    } finally {
      tail.kill('SIGINT')
    }
  })

  it('consume -f --key follows: new records of the key appear, others do not', async () => {
    await keyedTopic()
    const existing = withKey(await envelopes(['orders'], t.env), 'k7').map((r) => r.value)
    const follow = start(['consume', 'orders', '--key', 'k7', '-f'], {env: t.env})
    try {
      const first = await waitForOutput(follow.stdout!, (text) => lines(text).length >= existing.length)
      expect(lines(first)).toEqual(existing)
      // Batches without the key come first: the follower must pass them and still see k7's.
      const seen = waitForOutput(follow.stdout!, (text) => text.includes('wanted'))
      expect((await run(['produce', 'orders', '-K', ':'], {env: t.env, input: 'k8:skip-1\nk9:skip-2\n'})).code).toBe(0)
      expect((await run(['produce', 'orders', '-K', ':'], {env: t.env, input: 'k7:wanted\n'})).code).toBe(0)
      expect(await seen).toBe('wanted\n')
    } finally {
      follow.kill('SIGINT')
    }
  })

  it('replay --key and pipe --key copy only the key, in order', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    const replayed = await run(['replay', 'orders', '--key', 'k9', '--speed', 'max', '--json'], {env: t.env})
    expect(replayed.code).toBe(0)
    expect(byPlace(parsed(replayed.stdout))).toEqual(byPlace(withKey(all, 'k9')))
    const piped = await run(['pipe', 'orders', 'k9-only', '--key', 'k9'], {env: t.env})
    expect(piped.code).toBe(0)
    const copy = await envelopes(['k9-only'], t.env)
    const strip = (records: Envelope[]) => byPlace(records).map(({key, value, partition}) => ({key, value, partition}))
    expect(strip(copy)).toEqual(strip(withKey(all, 'k9')))
  })

  it('consume -g --key and pipe -g --key commit every partition to the end they read to, as --filter does; with -c, just past the last record out', async () => {
    await keyedTopic()
    const lags = async (group: string) => {
      const described = await run(['group', 'describe', group, '--json'], {env: t.env})
      expect(described.code).toBe(0)
      return (JSON.parse(described.stdout) as Array<{partition: number; committed: number | null; lag: number}>).map((p) => [p.partition, p.lag])
    }
    const zero = [[0, 0], [1, 0], [2, 0]]
    // k9 is routed to one partition by murmur2 and pinned to partition 2 by -p in keyedTopic: another
    // partition holds none of it, and its commit still reaches the end.
    expect((await run(['consume', 'orders', '-g', 'byKey', '--key', 'k9'], {env: t.env})).code).toBe(0)
    expect(await lags('byKey')).toEqual(zero)
    expect((await run(['consume', 'orders', '-g', 'none', '--key', 'no-such-key'], {env: t.env})).code).toBe(0)
    expect(await lags('none')).toEqual(zero)
    const piped = await run(['pipe', 'orders', 'k9-copy', '-g', 'copier', '--key', 'k9'], {env: t.env})
    expect(piped.code).toBe(0)
    expect(await lags('copier')).toEqual(zero)
    // Run again, it copies nothing more.
    const before = (await envelopes(['k9-copy'], t.env)).length
    expect((await run(['pipe', 'orders', 'k9-copy', '-g', 'copier', '--key', 'k9'], {env: t.env})).code).toBe(0)
    expect(await envelopes(['k9-copy'], t.env)).toHaveLength(before)
    // Stopped by -c, the group commits only past the record it printed (the other partitions stay where
    // the read started in them: their beginning).
    const first = await run(['consume', 'orders', '-g', 'one', '--key', 'k9', '-c', '1', '--format', '%p %o\n'], {env: t.env})
    const [partition, offset] = first.stdout.toString().trim().split(' ').map(Number)
    const described = JSON.parse((await run(['group', 'describe', 'one', '--json'], {env: t.env})).stdout) as Array<{partition: number; committed: number | null}>
    expect(described.map((p) => [p.partition, p.committed])).toEqual([0, 1, 2].map((p) => [p, p === partition ? offset! + 1 : 0]))
  })

  it('reads through the index: a filter that says "not here" hides the records; spool check reports it', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    const target = withKey(all, 'k11')
    expect(target.length).toBeGreaterThan(0)
    // An all-zero filter with 4 probes answers "no key here" for every key.
    const db = new Database(t.store)
    db.prepare('UPDATE batch_keys SET filter = ? WHERE partition = ?').run(Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]), target[0]!.partition)
    db.close()
    const found = await run(['consume', 'orders', '--key', 'k11', '--json'], {env: t.env})
    expect(parsed(found.stdout)).toEqual(target.filter((r) => r.partition !== target[0]!.partition))
    // A full read does not use the index.
    expect(withKey(await envelopes(['orders'], t.env), 'k11')).toEqual(target)
    const check = await run(['check'], {env: t.env})
    expect(check.code).toBe(1)
    expect(check.stdout.toString()).toMatch(/the key index does not match the keys of the batch/)
  })

  it('batches without an index row are read whole: a deleted row hides nothing', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    const db = new Database(t.store)
    // The middle batch of each partition and the last: a gap inside the rows and a tail after them.
    db.exec("DELETE FROM batch_keys WHERE base_offset > 0")
    db.close()
    const found = await run(['consume', 'orders', '--key', 'k12', '--json'], {env: t.env})
    expect(parsed(found.stdout)).toEqual(withKey(all, 'k12'))
  })

  it('retention and topic delete remove index rows and record maps with their batches', async () => {
    expect((await run(['topic', 'create', 'short', '--retention-bytes', '20KiB'], {env: t.env})).code).toBe(0)
    for (let round = 0; round < 6; round++) {
      const input = Array.from({length: 300}, (_, i) => `k${i % 10}:${round}-${'x'.repeat(20)}-${i}`).join('\n')
      expect((await run(['produce', 'short', '-K', ':'], {env: t.env, input})).code).toBe(0)
    }
    const batches = batchRows()
    expect(batches.length).toBeLessThan(6)
    expect(indexRows()).toEqual(batches)
    expect(mapRows()).toEqual(batches.map(({partition, base_offset}) => ({partition, base_offset})))
    // Each produce wrote its segment at its close: usually one batch, two when its input came in two reads
    // (a busy machine), so the segments tile the batches left without a gap, each starting at a batch.
    const segments = segmentRows()
    expect(segments[0]!.first_offset).toBe(batches[0]!.base_offset)
    expect(segments.at(-1)!.end_offset).toBe(batches.at(-1)!.base_offset + batches.at(-1)!.record_count)
    for (const [i, segment] of segments.entries()) {
      expect(batches.some((batch) => batch.base_offset === segment.first_offset)).toBe(true)
      if (i > 0) expect(segment.first_offset).toBe(segments[i - 1]!.end_offset)
    }
    const kept = await envelopes(['short'], t.env)
    const found = await run(['consume', 'short', '--key', 'k3', '--json'], {env: t.env})
    expect(parsed(found.stdout)).toEqual(withKey(kept, 'k3'))
    expect((await run(['topic', 'delete', 'short', '--yes'], {env: t.env})).code).toBe(0)
    expect(indexRows()).toEqual([])
    expect(mapRows()).toEqual([])
    expect(segmentRows()).toEqual([])
  })

  it('retention deleting a writer\'s batches before their segment: rows and postings only for the batches left', async () => {
    expect((await run(['topic', 'create', 'short', '--retention-bytes', '20KiB'], {env: t.env})).code).toBe(0)
    // One produce, a batch per linger (about 10 KB each): retention deletes its first batches while it
    // still holds their index rows back for its segment, written at its close.
    const producer = start(['produce', 'short', '-K', ':', '--linger', '1ms'], {env: t.env})
    const closed = new Promise((resolve) => producer.on('close', resolve))
    let written = 0
    for (let round = 0; round < 400 && written < 8; round++) {
      producer.stdin!.write(Array.from({length: 300}, (_, i) => `k${i % 10}:${round}-${'x'.repeat(20)}-${i}\n`).join(''))
      for (let wait = 0; wait < 200; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        let total = 0
        try {
          const db = new Database(t.store, {readonly: true})
          total = (db.prepare('SELECT next_offset FROM partitions').get() as {next_offset: number} | undefined)?.next_offset ?? 0
          db.close()
        } catch {
          // not created yet
        }
        if (total >= (round + 1) * 300) break
      }
      written = round + 1
    }
    producer.stdin!.end()
    expect(await closed).toBe(0)
    const batches = batchRows()
    expect(batches.length).toBeGreaterThan(0)
    expect(batches[0]!.base_offset).toBeGreaterThan(0) // retention deleted the first ones
    expect(indexRows()).toEqual(batches)
    expect(mapRows()).toEqual(batches.map(({partition, base_offset}) => ({partition, base_offset})))
    const segments = segmentRows()
    expect(segments.length).toBeGreaterThan(0)
    expect(segments[0]!.first_offset).toBe(batches[0]!.base_offset)
    const kept = await envelopes(['short'], t.env)
    for (const key of ['k3', 'k7'])
      expect(parsed((await run(['consume', 'short', '--key', key, '--json'], {env: t.env})).stdout)).toEqual(withKey(kept, key))
    expect((await run(['check'], {env: t.env})).code).toBe(0)
  })

  it('a version 4 store reads by key before and after its migration; old batches stay unindexed', async () => {
    await keyedTopic()
    const before = await envelopes(['orders'], t.env)
    // What a spool of store version 4 wrote: the same tables without the key index (or the cursors after it).
    const db = new Database(t.store)
    db.exec('DROP TABLE batch_keys; DROP TABLE cursor_positions; DROP TABLE batch_key_map; DROP TABLE batch_key_postings')
    db.pragma('user_version = 4')
    db.close()
    // A read opens the store read-only and does not migrate it: it filters every batch.
    const read = await run(['consume', 'orders', '--key', 'k13', '--json'], {env: t.env})
    expect(read.code).toBe(0)
    expect(parsed(read.stdout)).toEqual(withKey(before, 'k13'))
    // A write migrates it; its new batches are indexed, the old ones are not.
    expect((await run(['produce', 'orders', '-K', ':'], {env: t.env, input: 'k13:after-migration\n'})).code).toBe(0)
    const version = new Database(t.store, {readonly: true})
    expect(version.pragma('user_version', {simple: true})).toBe(SCHEMA_VERSION)
    version.close()
    const oldBatches = before.length
    expect(indexRows().every((row) => row.record_count === 1)).toBe(true)
    expect(indexRows()).toHaveLength(1)
    const after = await run(['consume', 'orders', '--key', 'k13', '--json'], {env: t.env})
    const expected = withKey(await envelopes(['orders'], t.env), 'k13')
    expect(expected.at(-1)).toMatchObject({value: 'after-migration'})
    expect(parsed(after.stdout)).toEqual(expected)
    expect(oldBatches).toBe(1252)
  })

  it('consume --key on a shell pipeline: only the key reaches the reader', async () => {
    await keyedTopic()
    const piped = await sh('$bin consume orders --key k14 --format "%k\\n" | sort -u', {env: t.env})
    expect(piped.code).toBe(0)
    expect(piped.stdout.toString()).toBe('k14\n')
  })

  it('reads only the chunks of the records it wants, each checked: a damaged one fails with the one-line damage error; spool check finds it', async () => {
    await oneBigBatch()
    const expected = withKey(await envelopes(['big'], t.env), 'k0')
    expect(expected).toHaveLength(100)
    expect(parsed((await run(['consume', 'big', '--key', 'k0', '--json'], {env: t.env})).stdout)).toEqual(expected)
    // One byte of record 2500's value (key k0) changes; the batch keeps its length and its stored checksums.
    alter('batches', (data) => {
      const at = data.indexOf('value-2500-')
      data[at + 7] = data[at + 7] === 0x30 ? 0x31 : 0x30
    })
    const found = await run(['consume', 'big', '--key', 'k0'], {env: t.env})
    expect(found.code).toBe(1)
    expect(found.stdout.toString()).toBe('')
    expect(stderrLines(found.stderr)).toEqual([
      `spool: store ${t.store} is damaged: topic 'big' partition 0, offsets 0-4999: the batch does not match its checksum (see everything that is damaged with: spool check -b file:${t.store})`,
    ])
    // A key whose records' chunks are intact still reads: only what is read is checked, and all of it.
    const k49 = await run(['consume', 'big', '--key', 'k49', '--until', '2000', '--json'], {env: t.env})
    expect(k49.code).toBe(0)
    expect(parsed(k49.stdout)).toHaveLength(40)
    const check = await run(['check', '--json'], {env: t.env})
    expect(check.code).toBe(1)
    expect(JSON.parse(check.stdout.toString()).damage).toEqual([{topic: 'big', partition: 0, from: 0, to: 4999, reason: 'the batch does not match its checksum'}])
  })

  it('key postings in either layout of version 8: rows appended by rowid (now) or kept by bucket (before): the same reads, check passes', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    const db = new Database(t.store)
    // A store made now appends postings rows (a rowid table with an index by bucket).
    const made = db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'batch_key_postings'").pluck().get() as string
    expect(made).not.toMatch(/WITHOUT ROWID/)
    // The layout version 8 had first, rows kept in bucket order: the same columns and key.
    db.exec(`CREATE TABLE postings_by_bucket (
      topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, bucket INTEGER NOT NULL, first_offset INTEGER NOT NULL,
      end_offset INTEGER NOT NULL, postings BLOB NOT NULL, PRIMARY KEY (topic_id, partition, bucket, first_offset)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO postings_by_bucket SELECT * FROM batch_key_postings;
    DROP TABLE batch_key_postings;
    ALTER TABLE postings_by_bucket RENAME TO batch_key_postings;`)
    const rows = db.prepare('SELECT count(*) FROM batch_key_postings').pluck().get() as number
    db.close()
    expect(rows).toBeGreaterThan(0)
    for (const key of ['k0', 'k3', 'k36']) {
      const found = await run(['consume', 'orders', '--key', key, '--json'], {env: t.env})
      expect({code: found.code, records: parsed(found.stdout)}).toEqual({code: 0, records: withKey(all, key)})
    }
    // More records go into the old layout as well, and are found through it.
    await run(['produce', 'orders', '-K', ':'], {env: t.env, input: 'k3:late\n'})
    const late = await run(['consume', 'orders', '--key', 'k3'], {env: t.env})
    expect(lines(late.stdout)).toContain('late')
    const check = await run(['check', '--json'], {env: t.env})
    expect({code: check.code, damage: JSON.parse(check.stdout.toString()).damage}).toEqual({code: 0, damage: []})
  })

  it('reads through the key postings: a posting that differs from its batch changes what --key finds, and spool check reports it', async () => {
    await oneBigBatch()
    const expected = withKey(await envelopes(['big'], t.env), 'k0')
    const hash = keyHash(Buffer.from('k0'))
    const tag = tagBytes(hash)
    const u24 = (bytes: Buffer, at: number) => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)
    // Record 2500's posting (k0's bucket: u24 tags, then u24 offsets from the segment's first) names
    // offset 2501 instead: the postings are what a read by key trusts; the key's bytes still decide.
    alterPostings(bucketOf(hash), (postings) => {
      const n = postings.length / 6
      const entry = Array.from({length: n}, (_, e) => u24(postings, n * 3 + e * 3)).indexOf(2500)
      expect(postings.subarray(entry * 3, entry * 3 + 3)).toEqual(tag)
      postings.writeUIntLE(2501, n * 3 + entry * 3, 3)
    })
    const found = await run(['consume', 'big', '--key', 'k0', '--json'], {env: t.env})
    expect(parsed(found.stdout)).toEqual(expected.filter((r) => r.offset !== 2500))
    const check = await run(['check', '--json'], {env: t.env})
    expect(check.code).toBe(1)
    expect(JSON.parse(check.stdout.toString()).damage).toEqual([
      expect.objectContaining({topic: 'big', partition: 0, from: 0, to: 4999, reason: expect.stringMatching(/^the key postings do not match the keys of their batches/)}),
    ])
    // A posting of an offset past its segment is damage, in one line.
    alterPostings(bucketOf(hash), (postings) => {
      const n = postings.length / 6
      const entry = Array.from({length: n}, (_, e) => u24(postings, e * 3)).indexOf(u24(tag, 0))
      postings.writeUIntLE(7000, n * 3 + entry * 3, 3)
    })
    const damaged = await run(['consume', 'big', '--key', 'k0'], {env: t.env})
    expect(damaged.code).toBe(1)
    expect(stderrLines(damaged.stderr)).toEqual([
      `spool: store ${t.store} is damaged: topic 'big' partition 0, offsets 0-4999: the key index cannot be read (its key postings name offset 7000, past their segment) (see everything that is damaged with: spool check -b file:${t.store})`,
    ])
  })

  it('reads through the record map: a damaged record position is damage in one line, and spool check reports the map', async () => {
    await oneBigBatch()
    // A group start, covered by the map's own checksum.
    alter('batch_key_map', (map) => {
      map[20] ^= 1
    })
    const damaged = await run(['consume', 'big', '--key', 'k0'], {env: t.env})
    expect(damaged.code).toBe(1)
    expect(stderrLines(damaged.stderr)).toEqual([
      `spool: store ${t.store} is damaged: topic 'big' partition 0, offsets 0-4999: the batch cannot be read (its key map does not match its checksum) (see everything that is damaged with: spool check -b file:${t.store})`,
    ])
    const check = await run(['check', '--json'], {env: t.env})
    expect(check.code).toBe(1)
    expect(JSON.parse(check.stdout.toString()).damage).toEqual([
      expect.objectContaining({topic: 'big', partition: 0, from: 0, to: 4999, reason: expect.stringMatching(/^the key map does not match the batch/)}),
    ])
  })

  it('batches without a record map (written before store version 7) are read whole, beside batches with one', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    const db = new Database(t.store)
    db.exec('DELETE FROM batch_key_map WHERE base_offset % 2 = 0')
    db.close()
    expect(mapRows().length).toBeGreaterThan(0)
    for (const key of ['k1', 'k20'])
      expect(parsed((await run(['consume', 'orders', '--key', key, '--json'], {env: t.env})).stdout)).toEqual(withKey(all, key))
    expect((await run(['check'], {env: t.env})).code).toBe(0)
  })

  it('reads batches indexed by store version 7 (Bloom filter, record map with key hashes) beside version 8 ones (postings)', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    // The first segment of each partition gets back the index rows a spool of store version 7 wrote.
    const db = new Database(t.store)
    const first = db.prepare('SELECT partition, min(first_offset) AS first_offset FROM batch_key_postings GROUP BY partition').all() as Array<{partition: number; first_offset: number}>
    let rewritten = 0
    for (const {partition, first_offset} of first) {
      const {end_offset} = db.prepare('SELECT end_offset FROM batch_key_postings WHERE partition = ? AND first_offset = ?').get(partition, first_offset) as {end_offset: number}
      const rows = db.prepare('SELECT base_offset, data FROM batches WHERE partition = ? AND base_offset >= ? AND base_offset < ?').all(partition, first_offset, end_offset) as Array<{base_offset: number; data: Buffer}>
      for (const {base_offset, data} of rows) {
        const batch = new StoredBatch('orders', partition, data, base_offset)
        const keys = Array.from({length: batch.count}, (_, i) => batch.keyAt(i))
        db.prepare('UPDATE batch_keys SET filter = ? WHERE partition = ? AND base_offset = ?').run(keyFilter(keys, batch.count), partition, base_offset)
        db.prepare('UPDATE batch_key_map SET map = ? WHERE partition = ? AND base_offset = ?').run(buildKeyMap(data, keys), partition, base_offset)
        rewritten++
      }
      db.prepare('DELETE FROM batch_key_postings WHERE partition = ? AND first_offset = ?').run(partition, first_offset)
    }
    db.close()
    expect(first).toHaveLength(3)
    expect(segmentRows().length).toBeGreaterThan(0)
    expect(rewritten).toBeGreaterThan(2)
    for (const key of ['k1', 'k20', 'k36'])
      expect(parsed((await run(['consume', 'orders', '--key', key, '--json'], {env: t.env})).stdout)).toEqual(withKey(all, key))
    const two = await run(['consume', 'orders', '--key', 'k2', '--key', 'k30', '--from', '50', '--json'], {env: t.env})
    expect(parsed(two.stdout)).toEqual(withKey(all, 'k2', 'k30').filter((r) => r.offset >= 50))
    // Both kinds of rows are what check rebuilds.
    expect((await run(['check'], {env: t.env})).code).toBe(0)
  })

  it('batches whose writer stopped before writing their key postings are read whole, and new writes post theirs', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    // What a produce killed before its close leaves: its batches pending (filter 01), no segment.
    const db = new Database(t.store)
    const segment = db.prepare('SELECT partition, first_offset, end_offset FROM batch_key_postings ORDER BY partition DESC, first_offset DESC LIMIT 1').get() as {partition: number; first_offset: number; end_offset: number}
    db.prepare("UPDATE batch_keys SET filter = X'01' WHERE partition = ? AND base_offset >= ? AND base_offset < ?").run(segment.partition, segment.first_offset, segment.end_offset)
    db.prepare('DELETE FROM batch_key_postings WHERE partition = ? AND first_offset = ?').run(segment.partition, segment.first_offset)
    db.close()
    for (const key of ['k0', 'k5', 'k33'])
      expect(parsed((await run(['consume', 'orders', '--key', key, '--json'], {env: t.env})).stdout)).toEqual(withKey(all, key))
    expect((await run(['check'], {env: t.env})).code).toBe(0)
    // A later produce posts its own batches; the pending ones stay pending, and every key still reads.
    expect((await run(['produce', 'orders', '-K', ':', '-p', String(segment.partition)], {env: t.env, input: 'k5:later\n'})).code).toBe(0)
    const after = await envelopes(['orders'], t.env)
    expect(parsed((await run(['consume', 'orders', '--key', 'k5', '--json'], {env: t.env})).stdout)).toEqual(withKey(after, 'k5'))
    expect(withKey(after, 'k5').at(-1)).toMatchObject({value: 'later'})
    expect((await run(['check'], {env: t.env})).code).toBe(0)
  })

  it('a writer writes its batches\' index rows with their segment: killed before it, they have none, are read whole, and check passes', async () => {
    // A produce fed through a pipe commits a batch per linger; killed before its close, it has written no
    // segment (fewer than 64 batches), so none of its batches has an index row (not even a pending one).
    const producer = start(['produce', 'orders', '-K', ':', '--partitions', '2', '--linger', '1ms'], {env: t.env})
    const closed = new Promise((resolve) => producer.on('close', (_code, signal) => resolve(signal)))
    const committed = () => {
      try {
        return batchRows().length
      } catch {
        return 0 // not created yet
      }
    }
    for (let round = 0; committed() < 6 && round < 400; round++) {
      producer.stdin!.write(Array.from({length: 20}, (_, i) => `k${(round * 20 + i) % 13}:round-${round}-${i}\n`).join(''))
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    producer.kill('SIGKILL')
    expect(await closed).toBe('SIGKILL')
    const killed = batchRows()
    expect(killed.length).toBeGreaterThanOrEqual(6)
    expect(indexRows()).toEqual([])
    expect(mapRows()).toEqual([])
    expect(segmentRows()).toEqual([])
    const all = await envelopes(['orders'], t.env)
    for (const key of ['k0', 'k7', 'k12'])
      expect(parsed((await run(['consume', 'orders', '--key', key, '--json'], {env: t.env})).stdout)).toEqual(withKey(all, key))
    expect((await run(['check'], {env: t.env})).code).toBe(0)
    // A later produce that closes writes its own batch's rows and segment; the killed writer's stay without.
    expect((await run(['produce', 'orders', '-K', ':', '-p', '1'], {env: t.env, input: 'k7:later\n'})).code).toBe(0)
    const later = batchRows().filter((b) => !killed.some((k) => k.partition === b.partition && k.base_offset === b.base_offset))
    expect(later).toHaveLength(1)
    expect(indexRows()).toEqual(later)
    expect(segmentRows()).toEqual([{partition: 1, first_offset: later[0]!.base_offset, end_offset: later[0]!.base_offset + 1}])
    const after = await envelopes(['orders'], t.env)
    expect(parsed((await run(['consume', 'orders', '--key', 'k7', '--json'], {env: t.env})).stdout)).toEqual(withKey(after, 'k7'))
    expect(withKey(after, 'k7').at(-1)).toMatchObject({value: 'later'})
    expect((await run(['check'], {env: t.env})).code).toBe(0)
  })

  it('a read by key never reads a keyless batch: one damaged is found by a full read, not by --key', async () => {
    await keyedTopic()
    const all = await envelopes(['orders'], t.env)
    // The last batch (partition 0): no-key-1 and no-key-2, with an empty index row, no postings and no map.
    const db = new Database(t.store)
    const keyless = db.prepare("SELECT partition, base_offset, data FROM batches b WHERE EXISTS (SELECT 1 FROM batch_keys k WHERE k.partition = b.partition AND k.base_offset = b.base_offset AND length(k.filter) = 0)").all() as Array<{partition: number; base_offset: number; data: Buffer}>
    expect(keyless).toHaveLength(1)
    const {partition, base_offset, data} = keyless[0]!
    const damaged = Buffer.from(data)
    damaged[damaged.indexOf('no-key-2')] ^= 1
    db.prepare('UPDATE batches SET data = ? WHERE partition = ? AND base_offset = ?').run(damaged, partition, base_offset)
    db.close()
    expect(segmentRows().some((r) => r.partition === partition && r.first_offset <= base_offset && base_offset < r.end_offset)).toBe(false)
    const found = await run(['consume', 'orders', '--key', 'k3', '--json'], {env: t.env})
    expect(found.code).toBe(0)
    expect(parsed(found.stdout)).toEqual(withKey(all, 'k3'))
    const full = await run(['consume', 'orders', '-p', String(partition)], {env: t.env})
    expect(full.code).toBe(1)
  })
})
