#!/usr/bin/env node
// Find by key (issue 13): `npm run bench:key-index` (builds first; part of `npm run bench`), or
// `node bench/key-index.js` on a built tree. Prints a
// Markdown report on stdout; docs/BENCHMARKS.md records the figures.
//
// 1. Reads: a local topic of BENCH_KEY_RECORDS (default 10M) keyed records over BENCH_KEY_KEYS (default
//    100k) distinct keys, in random order, is built once with the key index and once without it (the
//    bench-only switch SPOOL_BENCH_NO_KEY_INDEX=1, under which produce writes no index rows and reads by
//    key fall back to reading every batch). `consume --key K | wc -l` on the indexed store is timed
//    against three full reads: `consume | wc -l`, `consume --format '%k %v\n' | grep '^K '`, and
//    `consume --key K` on the store without index rows. Each is also given net of start-up: minus the
//    median of `consume TOPIC -c 0` (open the store, plan the read, read nothing).
// 2. Produce: BENCH_KEY_PRODUCE (default 1M) keyed records piped into a fresh store, with and without
//    the index, runs interleaved, median of BENCH_RUNS (default 5). BENCH_KEY_PARTS=produce runs only
//    this part (no 10M-record topic to build).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {dataFile} from './data-file.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const records = Number(process.env.BENCH_KEY_RECORDS ?? 10_000_000)
const distinctKeys = Number(process.env.BENCH_KEY_KEYS ?? 100_000)
const produceRecords = Number(process.env.BENCH_KEY_PRODUCE ?? 1_000_000)
const runs = Number(process.env.BENCH_RUNS ?? 5)
const parts = (process.env.BENCH_KEY_PARTS ?? 'read,produce').split(',')
const work = mkdtempSync(join(tmpdir(), 'spool-bench-keys-'))
const env = {...process.env, NO_COLOR: '1'}
delete env.SPOOL_BROKER
delete env.SPOOL_BENCH_NO_KEY_INDEX

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const ms = (s) => `${(s * 1000).toFixed(1)} ms`
const log = (line) => process.stderr.write(`bench: ${line}\n`)

/**
 * Wall time of a shell pipeline and the CPU time (user + system) of all its processes, in seconds, and
 * its stdout. The CPU time is the steadier figure on a shared machine: waiting for a core is not in it.
 */
function timed(script, extraEnv = {}) {
  const times = join(work, 'times')
  const wrapped = `exec 4>&2; TIMEFORMAT='%R %U %S'; { time { ${script} ; } 2>&4 ; } 2>${times}`
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', wrapped], {env: {...env, ...extraEnv}, encoding: 'utf8', maxBuffer: 1 << 26})
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr}`)
  const [real, user, system] = readFileSync(times, 'utf8').trim().split(/\s+/).map(Number)
  return {seconds: real, cpu: user + system, stdout: result.stdout.trim()}
}

/** A deterministic stream of pseudo-random numbers (xorshift32), so every run builds the same topic. */
function randoms(seed) {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x100000000
  }
}

/** Every this many lines, one whose key occurs nowhere else (`solo-LINE`). */
const SOLO_EVERY = 1_000_000

/**
 * `user-N:value` lines: keys drawn at random from distinctKeys, a 60-byte value naming the line; every
 * SOLO_EVERY-th line (from the middle of the first million) has a key of its own.
 */
function keyedLines(name, count) {
  const next = randoms(0x2545f491)
  const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2)
  const keyAt = (i) => (i % SOLO_EVERY === SOLO_EVERY / 2 ? `solo-${i}` : `user-${Math.floor(next() * distinctKeys)}`)
  return dataFile(name, count, (i) => `${keyAt(i)}:${`${i}:${pad}`.slice(0, 60)}`, log)
}

const store = (name) => `-b file:${join(work, name)}`

async function main() {
  const report = parts.includes('read') ? await reads() : []
  if (parts.includes('produce')) report.push(...(report.length ? [''] : []), ...(await produces()))
  process.stdout.write(`${report.join('\n')}\n`)
}

/** Part 1: the report's lines on reads by key against full reads. */
async function reads() {
  const big = await keyedLines(`keyed-solo-${records}-${distinctKeys}.txt`, records)
  // The key looked up: one that occurs about as often as any (records / distinctKeys times).
  const key = 'user-4242'

  log(`building the ${fmt(records)}-record topic with the key index`)
  const buildIndexed = timed(`node ${bin} produce big -K : ${store('indexed.db')} < ${big}`)
  log(`building it again without (SPOOL_BENCH_NO_KEY_INDEX=1)`)
  const buildPlain = timed(`node ${bin} produce big -K : ${store('plain.db')} < ${big}`, {SPOOL_BENCH_NO_KEY_INDEX: '1'})
  const expected = timed(`grep -c '^${key}:' ${big}`).stdout

  // A key of one record, in the middle of the topic: what a lookup costs when the key is in one batch.
  const solo = `solo-${Math.floor(records / SOLO_EVERY / 2) * SOLO_EVERY + SOLO_EVERY / 2}`
  const read = {startup: [], byKey: [], bySolo: [], scanWc: [], scanGrep: [], byKeyNoIndex: []}
  const check = (what, got, want) => {
    if (String(got) !== String(want)) throw new Error(`${what} gave ${got}; expected ${want}`)
  }
  for (let run = 0; run < runs; run++) {
    read.startup.push(timed(`node ${bin} consume big -c 0 ${store('indexed.db')}`))
    const found = timed(`node ${bin} consume big --key ${key} ${store('indexed.db')} | wc -l`)
    check('consume --key', found.stdout, expected)
    read.byKey.push(found)
    const single = timed(`node ${bin} consume big --key ${solo} ${store('indexed.db')} | wc -l`)
    check('consume --key (one record)', single.stdout, 1)
    read.bySolo.push(single)
    const all = timed(`node ${bin} consume big ${store('indexed.db')} | wc -l`)
    check('consume', all.stdout, records)
    read.scanWc.push(all)
    const grepped = timed(`node ${bin} consume big --format '%k %v\\n' ${store('indexed.db')} | grep -c '^${key} '`)
    check('consume --format | grep', grepped.stdout, expected)
    read.scanGrep.push(grepped)
    const unindexed = timed(`node ${bin} consume big --key ${key} ${store('plain.db')} | wc -l`)
    check('consume --key without index rows', unindexed.stdout, expected)
    read.byKeyNoIndex.push(unindexed)
    log(`read run ${run + 1}/${runs}: --key ${ms(found.seconds)} (cpu ${ms(found.cpu)}), one-record key cpu ${ms(single.cpu)}, consume | wc -l ${ms(all.seconds)} (cpu ${ms(all.cpu)})`)
  }
  const med = (samples, field) => median(samples.map((sample) => sample[field]))
  const ratio = (a, b) => `${(a / Math.max(b, 1e-4)).toFixed(0)}x`
  /** A read against a lookup (read.byKey or read.bySolo): wall and CPU, whole and net of start-up, and the ratios. */
  const row = (label, samples, lookup) => {
    const wall = med(samples, 'seconds')
    const cpu = med(samples, 'cpu')
    const netWall = wall - med(read.startup, 'seconds')
    const netCpu = cpu - med(read.startup, 'cpu')
    const keyNetWall = med(lookup, 'seconds') - med(read.startup, 'seconds')
    const keyNetCpu = med(lookup, 'cpu') - med(read.startup, 'cpu')
    return `| ${label} | ${ms(wall)} | ${ms(cpu)} | ${ms(netWall)} | ${ms(netCpu)} | ${ratio(wall, med(lookup, 'seconds'))} | ${ratio(netWall, keyNetWall)} | ${ratio(netCpu, keyNetCpu)} |`
  }
  const table = (lookup) => [
    '| read | wall | CPU | wall net of start-up | CPU net of start-up | wall / lookup | net wall / net lookup | net CPU / net lookup |',
    '|---|---|---|---|---|---|---|---|',
    row(`consume --key ${lookup === read.byKey ? key : solo} \\| wc -l (index)`, lookup, lookup),
    row('consume \\| wc -l (full read)', read.scanWc, lookup),
    row(`consume --format '%k %v\\n' \\| grep '^${key} '`, read.scanGrep, lookup),
    row(`consume --key ${key}, store without index rows (scan)`, read.byKeyNoIndex, lookup),
  ]

  const indexSize = timed(
    `sqlite3 ${join(work, 'indexed.db')} "SELECT (SELECT count(*) || ' filter rows of ' || sum(length(filter)) || ' bytes' FROM batch_keys) || ', ' || (SELECT count(*) || ' record maps of ' || coalesce(sum(length(map)), 0) || ' bytes' FROM batch_key_map) || ', ' || (SELECT count(*) || ' key postings rows (' || count(DISTINCT first_offset) || ' segments) of ' || coalesce(sum(length(postings)), 0) || ' bytes' FROM batch_key_postings) || ', batches ' || (SELECT sum(bytes) FROM batches) || ' bytes'" 2>/dev/null || echo unknown`,
  ).stdout
  return [
    `## Find by key (${fmt(records)} records, ${fmt(distinctKeys)} keys, ${expected} records of ${key})`,
    '',
    `Topic built in ${buildIndexed.seconds.toFixed(1)} s with the index, ${buildPlain.seconds.toFixed(1)} s without; index: ${indexSize}.`,
    `Start-up (\`consume big -c 0\`, median): ${ms(med(read.startup, 'seconds'))} wall, ${ms(med(read.startup, 'cpu'))} CPU. Medians of ${runs} runs; CPU is user + system of the whole pipeline.`,
    '',
    `#### A key of ${expected} records (${key}), against full reads`,
    '',
    ...table(read.byKey),
    '',
    `#### A key of one record (${solo}), against the same full reads`,
    '',
    ...table(read.bySolo),
  ]
}

/** Part 2: the report's lines on what the index costs produce. */
async function produces() {
  const med = (samples, field) => median(samples.map((sample) => sample[field]))
  // Produce: fresh store per run, with and without the index, interleaved so drift hits both alike.
  const small = await keyedLines(`keyed-solo-${produceRecords}-${distinctKeys}.txt`, produceRecords)
  const produce = {indexed: [], plain: []}
  const kinds = [['indexed', {}], ['plain', {SPOOL_BENCH_NO_KEY_INDEX: '1'}]]
  for (let run = 0; run < runs; run++) {
    // Each pair in the other order from the last (ABBA): a run's place after another run's writes must not
    // favour one kind (pairs in one order measured the index at 12-17%, in the other at 6%).
    for (const [kind, extra] of run % 2 === 0 ? kinds : [...kinds].reverse()) {
      const file = join(work, `produce-${kind}-${run}.db`)
      const sample = timed(`node ${bin} produce p -K : -b file:${file} < ${small}`, extra)
      sample.batches = Number(timed(`sqlite3 ${file} 'SELECT count(*) FROM batches' 2>/dev/null || echo 0`).stdout)
      produce[kind].push(sample)
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, {force: true})
    }
    log(`produce run ${run + 1}/${runs}: with index ${ms(produce.indexed.at(-1).cpu)} cpu, without ${ms(produce.plain.at(-1).cpu)} cpu`)
  }
  const produceRow = (label, samples) =>
    `| ${label} | ${ms(med(samples, 'seconds'))} | ${fmt(produceRecords / med(samples, 'seconds'))} | ${ms(med(samples, 'cpu'))} | ${fmt(produceRecords / med(samples, 'cpu'))} | ${med(samples, 'batches')} |`
  const cost = (field) => `${(((med(produce.indexed, field) - med(produce.plain, field)) / med(produce.plain, field)) * 100).toFixed(1)}%`
  // The cost of each interleaved pair, so that a drift of the machine's load shows as spread here.
  const pairs = produce.indexed.map((sample, run) => `${(((sample.cpu - produce.plain[run].cpu) / produce.plain[run].cpu) * 100).toFixed(1)}%`)
  return [
    `### Produce cost of the index (${fmt(produceRecords)} keyed records, -K :, fresh store, median of ${runs})`,
    '',
    '| produce | wall | records/s | CPU | records per CPU second | batches |',
    '|---|---|---|---|---|---|',
    produceRow('with the key index', produce.indexed),
    produceRow('without (SPOOL_BENCH_NO_KEY_INDEX=1)', produce.plain),
    `| cost of the index | ${cost('seconds')} | | ${cost('cpu')} | | |`,
    '',
    `CPU cost of each pair, in run order (indexed first in the 1st, 3rd... pair, plain first in the others): ${pairs.join(', ')}.`,
  ]
}

main()
  .finally(() => rmSync(work, {recursive: true, force: true}))
  .catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`)
    process.exitCode = 1
  })
