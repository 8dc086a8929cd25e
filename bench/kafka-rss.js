#!/usr/bin/env node
// Peak RSS of Kafka produce and consume (issue 14: at most 150 MiB for any produce or consume, whatever
// the topic size), with wall and CPU time beside it so that a memory bound that costs throughput shows.
// For each round: `spool produce T -b kafka://B < lines` (a file on stdin), `cat lines | spool produce
// ...` (a pipe), and `spool consume T -b kafka://B | wc -l` of what the first produce wrote (the count is
// checked); each command is timed by GNU time (wall, user+sys, peak RSS of the spool process alone).
// Prints Markdown on stdout: medians of the rounds, and the largest peak RSS.
//
// Environment: BENCH_RECORDS (lines of 100 bytes, default 1000000; the same files as bench/run.js),
// BENCH_RUNS (rounds, default 3), BENCH_BASELINE (bin/run.js of another build: its commands run in the
// same rounds, interleaved, for a before/after), BENCH_BROKER (host:port of a running broker; else one
// is started with scripts/kafka-broker.mjs).
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {dataFile} from './data-file.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const records = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const baseline = process.env.BENCH_BASELINE
const work = mkdtempSync(join(tmpdir(), 'spool-bench-kafka-rss-'))
const log = (line) => process.stderr.write(`bench: ${line}\n`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

if (spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status !== 0) {
  process.stderr.write('bench: /usr/bin/time (GNU time) is needed for CPU time and peak RSS (apt-get install time)\n')
  process.exit(1)
}
const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3)
const lines = await dataFile(`lines-${records}.txt`, records, (i) => `${i}:${pad.slice(0, 100 - `${i}:`.length)}`, log)

let broker
if (process.env.BENCH_BROKER) broker = {plaintext: process.env.BENCH_BROKER, stop: async () => {}}
else {
  const {startBroker} = await import('../scripts/kafka-broker.mjs')
  broker = await startBroker({log})
}
const kafka = `kafka://${broker.plaintext}`
const env = {...process.env, SPOOL_HOME: join(work, 'home'), SPOOL_CONFIG_HOME: join(work, 'config'), NO_COLOR: '1'}
delete env.SPOOL_BROKER

/** `before` (a shell prefix such as `cat FILE |`), the measured spool command under GNU time, then `after`. */
function measure(before, command, after) {
  const stats = join(work, 'time.txt')
  const script = `${before} /usr/bin/time -o ${stats} -f '%e %U %S %M' ${command} ${after}`
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', script], {env, encoding: 'utf8'})
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr}`)
  const [wall, user, sys, rssKiB] = readFileSync(stats, 'utf8').trim().split('\n').at(-1).split(' ').map(Number)
  return {wall, cpu: user + sys, rss: rssKiB / 1024, stdout: result.stdout}
}

const results = new Map()
const add = (name, figures) => results.set(name, [...(results.get(name) ?? []), figures])
let topicNumber = 0
try {
  const builds = [['', bin], ...(baseline ? [[' [before]', baseline]] : [])]
  for (let run = 0; run < runs; run++) {
    log(`round ${run + 1} of ${runs}`)
    for (const [label, path] of builds) {
      const topic = `rss-${process.pid}-${++topicNumber}`
      execFileSync(process.execPath, [bin, 'topic', 'create', topic, '-b', kafka], {env, stdio: 'ignore'})
      add(`spool produce T -b kafka://… < lines${label}`, measure('', `node ${path} produce ${topic} -b ${kafka}`, `< ${lines}`))
      add(`cat lines | spool produce T -b kafka://…${label}`, measure(`cat ${lines} |`, `node ${path} produce ${topic}-pipe -b ${kafka}`, ''))
      const consumed = measure('', `node ${path} consume ${topic} -b ${kafka}`, '| wc -l')
      if (Number(consumed.stdout.trim()) !== records) throw new Error(`consume read ${consumed.stdout.trim()} records, not ${records}`)
      add(`spool consume T -b kafka://… | wc -l${label}`, consumed)
    }
  }
  const uptime = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  console.log(`${records.toLocaleString('en-US')} lines of 100 bytes, ${runs} rounds, load average at the end ${uptime}\n`)
  console.log('| command | wall (median) | user+sys (median) | peak RSS (largest) | peak RSS (median) |')
  console.log('|---|---|---|---|---|')
  for (const [name, rows] of results) {
    const rss = rows.map((r) => r.rss)
    console.log(`| ${name} | ${median(rows.map((r) => r.wall)).toFixed(2)} s | ${median(rows.map((r) => r.cpu)).toFixed(2)} s | ${Math.max(...rss).toFixed(0)} MiB | ${median(rss).toFixed(0)} MiB |`)
  }
} finally {
  await broker.stop()
  rmSync(work, {recursive: true, force: true})
}
