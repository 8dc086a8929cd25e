#!/usr/bin/env node
// Issue 13, reading a key's records out of many batches: what each way of storing a batch's blob costs a
// read by key and a full read, measured on SQLite itself (better-sqlite3, no spool code), so that the
// layouts are compared on the same bytes. docs/BENCHMARKS.md ("Issue 13's fifth pass") records the figures.
//
//   node bench/key-layouts.js STORE [TOPIC]
//
// STORE: a spool store holding a keyed topic (default topic `big`), e.g. the bench's own
// (`spool produce big -K : -b file:big.db < bench/.data/keyed-solo-10000000-100000.txt`). It is opened
// read-only; the other layouts are written to copies in a temporary directory, removed at the end.
//
// For each layout, in a fresh process each (so that every figure is a cold one, as a CLI run's is):
// - "lookup": the bytes a read by key of one record in each of 80 batches fetches (5 runs of 8 KiB a
//   batch: a group's timestamps, two length entries, values and keys, as key-map.ts's chunkRuns reads);
// - "full": every batch's whole blob, as `consume` reads it.
// Layouts: the store's own (one row per batch, parts by SQL substr), chunk rows of 8 KiB (WITHOUT ROWID,
// one row per record-map chunk), and rows of 60 KiB (a rowid table, each row inside one 64 KiB page),
// each with and without PRAGMA mmap_size.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const require = createRequire(import.meta.url)
const Database = require('better-sqlite3')
const CHUNK = 8192
const LOOKUP_BATCHES = 80
/** Chunks a lookup reads per batch (at these chunk numbers): 5 runs, as chunkRuns gives for one record. */
const LOOKUP_CHUNKS = [1, 9, 20, 45, 70]
const cpu = () => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}

/** One measurement, run in this process (a child started by main). */
function measure([kind, store, topic, layout, mmap, original]) {
  const db = new Database(layout === 'blob' ? store : join(store, `${layout}.db`), {readonly: true})
  if (mmap === 'mmap') db.pragma('mmap_size = 4294967296')
  const source = layout === 'blob' ? db : new Database(original, {readonly: true})
  const topicId = source.prepare('SELECT id FROM topics WHERE name = ?').pluck().get(topic)
  const bases = source.prepare('SELECT base_offset FROM batches WHERE topic_id = ? AND partition = 0 ORDER BY base_offset').pluck().all(topicId)
  const step = Math.max(1, Math.floor(bases.length / LOOKUP_BATCHES))
  const picked = bases.filter((_, i) => i % step === 0).slice(0, LOOKUP_BATCHES)
  let bytes = 0
  const start = cpu()
  if (kind === 'lookup') {
    if (layout === 'blob') {
      const parts = LOOKUP_CHUNKS.map((c, r) => `substr(data, ${c * CHUNK + 1}, ${CHUNK}) AS p${r}`).join(', ')
      const statement = db.prepare(`SELECT record_count, length(data) AS size, ${parts} FROM batches WHERE topic_id = ? AND partition = 0 AND base_offset = ?`)
      for (const base of picked) {
        const row = statement.get(topicId, base)
        for (let r = 0; r < LOOKUP_CHUNKS.length; r++) bytes += row[`p${r}`].length
      }
    } else if (layout === 'rows8k') {
      const statement = db.prepare(`SELECT data FROM batch_chunks WHERE topic_id = ? AND partition = 0 AND base_offset = ? AND chunk IN (${LOOKUP_CHUNKS.join(', ')})`).pluck()
      for (const base of picked) for (const chunk of statement.all(topicId, base)) bytes += chunk.length
    } else {
      const statement = db.prepare('SELECT data FROM batch_rows WHERE id = ?').pluck()
      for (const base of picked)
        for (const row of new Set(LOOKUP_CHUNKS.map((c) => Math.floor((c * CHUNK) / ROW_BYTES)))) bytes += statement.get(base * 64 + row)?.length ?? 0
    }
  } else if (layout === 'blob') {
    for (const data of db.prepare('SELECT data FROM batches WHERE topic_id = ? AND partition = 0 ORDER BY base_offset').pluck().iterate(topicId)) bytes += data.length
  } else {
    const statement =
      layout === 'rows8k'
        ? db.prepare('SELECT data FROM batch_chunks WHERE topic_id = ? AND partition = 0 AND base_offset = ? ORDER BY chunk').pluck()
        : db.prepare('SELECT data FROM batch_rows WHERE id >= ? * 64 AND id < ? * 64 + 64 ORDER BY id').pluck()
    for (const base of bases) bytes += Buffer.concat(layout === 'rows8k' ? statement.all(topicId, base) : statement.all(base, base)).length
  }
  process.stdout.write(JSON.stringify({ms: cpu() - start, bytes}))
}

/** Rows of 60 KiB: a cell of a rowid table's leaf holds up to 65,501 bytes of a 64 KiB page. */
const ROW_BYTES = 60 * 1024

/** Copies the topic's batches into the two chunked layouts. */
function writeLayouts(store, topic, dir) {
  const source = new Database(store, {readonly: true})
  const topicId = source.prepare('SELECT id FROM topics WHERE name = ?').pluck().get(topic)
  for (const layout of ['rows8k', 'rows60k']) {
    const db = new Database(join(dir, `${layout}.db`))
    db.pragma('page_size = 65536')
    db.pragma('journal_mode = WAL')
    db.exec(
      layout === 'rows8k'
        ? 'CREATE TABLE batch_chunks (topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, base_offset INTEGER NOT NULL, chunk INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (topic_id, partition, base_offset, chunk)) STRICT, WITHOUT ROWID'
        : 'CREATE TABLE batch_rows (id INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT',
    )
    const insert = layout === 'rows8k' ? db.prepare('INSERT INTO batch_chunks VALUES (?, 0, ?, ?, ?)') : db.prepare('INSERT INTO batch_rows VALUES (?, ?)')
    const size = layout === 'rows8k' ? CHUNK : ROW_BYTES
    db.exec('BEGIN')
    for (const row of source.prepare('SELECT base_offset, data FROM batches WHERE topic_id = ? AND partition = 0 ORDER BY base_offset').iterate(topicId))
      for (let c = 0; c * size < row.data.length; c++) {
        const part = row.data.subarray(c * size, (c + 1) * size)
        if (layout === 'rows8k') insert.run(topicId, row.base_offset, c, part)
        else insert.run(row.base_offset * 64 + c, part)
      }
    db.exec('COMMIT')
    process.stderr.write(`bench: ${layout}: ${db.prepare('PRAGMA page_count').pluck().get()} pages of 64 KiB\n`)
    db.close()
  }
  const pages = source.prepare('PRAGMA page_count').pluck().get()
  process.stderr.write(`bench: the store itself: ${pages} pages (with its index tables)\n`)
  source.close()
}

function main() {
  const [store, topic = 'big'] = process.argv.slice(2)
  if (!store) {
    process.stderr.write('usage: node bench/key-layouts.js STORE [TOPIC]\n')
    process.exit(2)
  }
  const dir = mkdtempSync(join(tmpdir(), 'spool-bench-layouts-'))
  try {
    writeLayouts(store, topic, dir)
    const runs = Number(process.env.BENCH_RUNS ?? 3)
    const results = new Map()
    // Interleaved: every configuration once per round.
    for (let run = 0; run < runs; run++)
      for (const kind of ['lookup', 'full'])
        for (const layout of ['blob', 'rows8k', 'rows60k'])
          for (const mmap of ['no', 'mmap']) {
            if (kind === 'full' && mmap === 'mmap') continue
            const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--measure', kind, layout === 'blob' ? store : dir, topic, layout, mmap, store], {encoding: 'utf8'})
            if (child.status !== 0) throw new Error(child.stderr)
            const key = `${kind}|${layout}|${mmap}`
            results.set(key, [...(results.get(key) ?? []), JSON.parse(child.stdout)])
          }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    console.log(`| read | layout | mmap | CPU (median of ${runs}) | runs (ms) | bytes handed to JavaScript |`)
    console.log('|---|---|---|---|---|---|')
    const names = {blob: 'one row per batch (the store as it is)', rows8k: 'chunk rows of 8 KiB', rows60k: 'rows of 60 KiB'}
    for (const [key, samples] of results) {
      const [kind, layout, mmap] = key.split('|')
      const read = kind === 'lookup' ? `${LOOKUP_BATCHES} batches, ${LOOKUP_CHUNKS.length} chunks of 8 KiB each${layout === 'blob' ? ' (SQL substr)' : ''}` : `every batch whole${layout === 'blob' ? '' : ' (rows joined with Buffer.concat)'}`
      console.log(`| ${read} | ${names[layout]} | ${mmap === 'mmap' ? 'yes' : 'no'} | ${median(samples.map((s) => s.ms)).toFixed(1)} ms | ${samples.map((s) => s.ms.toFixed(0)).join(', ')} | ${samples[0].bytes.toLocaleString('en-US')} |`)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

if (process.argv[2] === '--measure') measure(process.argv.slice(3))
else main()
