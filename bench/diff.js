#!/usr/bin/env node
// `spool diff` on two local stores of 1M records (100-byte keyed lines, 3 partitions): a topic against
// its exact copy (equal) and against a copy with 10 values changed, in each mode (--by offset, key,
// value). Wall time and peak RSS of each diff process (the kernel's ru_maxrss of the child), beside
// `spool consume` of both topics as the cost of the reads alone. Prints a Markdown report on stdout.
// Options (environment): BENCH_RECORDS (default 1000000), BENCH_RUNS (default 3; the median is reported).
// `npm run bench:diff` builds first; `npm run bench` runs it after the others.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {dataFile} from './data-file.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const records = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const changes = 10
const work = mkdtempSync(join(tmpdir(), 'spool-bench-diff-'))
const env = {...process.env, SPOOL_HOME: work, NO_COLOR: '1'}
delete env.SPOOL_BROKER
const log = (line) => process.stderr.write(`bench diff: ${line}\n`)
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function sh(script) {
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', script], {env, encoding: 'utf8', maxBuffer: 1 << 26})
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr}`)
  return result.stdout
}

/**
 * Wall seconds, CPU seconds (user + system: on a shared machine the steadier figure), peak RSS (MiB)
 * and exit status of one command, measured around the child by python3.
 */
function measure(script) {
  const py = [
    'import resource,subprocess,sys,time',
    't=time.monotonic()',
    "r=subprocess.run(['bash','-c',sys.argv[1]],stdout=subprocess.DEVNULL)",
    'u=resource.getrusage(resource.RUSAGE_CHILDREN)',
    'print(time.monotonic()-t, u.ru_maxrss, r.returncode, u.ru_utime+u.ru_stime)',
  ].join('\n')
  const result = spawnSync('python3', ['-c', py, script], {env, encoding: 'utf8'})
  if (result.status !== 0) throw new Error(`python3 failed (${result.status}): ${result.stderr}`)
  const [seconds, kib, status, cpu] = result.stdout.trim().split(' ').map(Number)
  return {seconds, rss: kib / 1024, status, cpu}
}

function best(script, expectedStatus) {
  const seen = Array.from({length: runs}, () => measure(script))
  for (const m of seen) if (m.status !== expectedStatus) throw new Error(`exit ${m.status}, expected ${expectedStatus}: ${script}`)
  return {seconds: median(seen.map((m) => m.seconds)), cpu: median(seen.map((m) => m.cpu)), rss: Math.max(...seen.map((m) => m.rss))}
}

async function main() {
  const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3)
  const lines = await dataFile(`lines-${records}.txt`, records, (i) => `${i}:${pad.slice(0, 100 - `${i}:`.length)}`, log)
  const a = `file:${join(work, 'a.db')}`
  const b = `file:${join(work, 'b.db')}`
  const c = `file:${join(work, 'c.db')}`
  log(`work dir ${work}; ${fmt(records)} records, ${runs} runs each`)
  // Each line's number is its key: as many distinct keys as records, the worst case for --by key.
  sh(`node ${bin} topic create t -p 3 -b ${a} 2>/dev/null && node ${bin} produce t -K : -b ${a} 2>/dev/null < ${lines}`)
  sh(`node ${bin} pipe ${a}/t ${b}/t 2>/dev/null`)
  // The same records with `changes` values altered, spread over the topic.
  const every = Math.floor(records / changes)
  sh(
    `node ${bin} topic create t -p 3 -b ${c} 2>/dev/null && node ${bin} consume t --json -b ${a} ` +
      `| awk 'NR % ${every} == 0 { sub(/"value":"/, "\\"value\\":\\"X") } 1' | node ${bin} produce t --input json -b ${c} 2>/dev/null`,
  )
  const rows = []
  const consume = best(`node ${bin} consume t -b ${a} > /dev/null && node ${bin} consume t -b ${b} > /dev/null`, 0)
  rows.push(['`spool consume` of A, then of B (the reads alone)', '', consume])
  for (const by of ['offset', 'key', 'value']) {
    rows.push([`\`spool diff A/t B/t --by ${by}\``, 'equal', best(`node ${bin} diff ${a}/t ${b}/t --by ${by}`, 0)])
    rows.push([`\`spool diff A/t C/t --by ${by}\``, `${changes} changed`, best(`node ${bin} diff ${a}/t ${c}/t --by ${by}`, 1)])
    log(`--by ${by} done`)
  }
  console.log(`### spool diff, ${fmt(records)} records a side (${runs} runs, median times, highest peak RSS)\n`)
  console.log(`| command | sides | wall time | CPU time | CPU vs the reads alone | peak RSS |`)
  console.log(`|---|---|---|---|---|---|`)
  for (const [command, sides, m] of rows)
    console.log(`| ${command} | ${sides} | ${m.seconds.toFixed(2)} s | ${m.cpu.toFixed(2)} s | ${(m.cpu / consume.cpu).toFixed(2)}x | ${fmt(m.rss)} MiB |`)
  console.log(`\nA = file:a.db, B = its copy by \`spool pipe\`, C = A through \`consume --json | awk | produce --input json\` with ${changes} values changed.`)
}

try {
  await main()
} finally {
  rmSync(work, {recursive: true, force: true})
}
