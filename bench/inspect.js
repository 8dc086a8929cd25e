#!/usr/bin/env node
// Benchmarks of looking into captured feeds on the local store: `consume --merge` against plain consume
// of the same topics, and `count` (answered from batch metadata) against `consume | wc -l`.
// Prints a Markdown report on stdout; docs/BENCHMARKS.md records the figures and how to rerun.
// Options (environment): BENCH_MERGE_RECORDS (records per topic, default 250000; 4 topics),
// BENCH_COUNT_RECORDS (default 10000000), BENCH_RUNS (default 3).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {dataFile} from './data-file.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const perTopic = Number(process.env.BENCH_MERGE_RECORDS ?? 250_000)
const countRecords = Number(process.env.BENCH_COUNT_RECORDS ?? 10_000_000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const work = mkdtempSync(join(tmpdir(), 'spool-bench-inspect-'))
const env = {...process.env, SPOOL_HOME: work, NO_COLOR: '1'}
delete env.SPOOL_BROKER

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const log = (line) => process.stderr.write(`bench: ${line}\n`)
const spool = `node ${bin}`
const TOPICS = ['m0', 'm1', 'm2', 'm3']
const BURSTS = ['r0', 'r1', 'r2', 'r3']
const BURST = 1000

/** Wall time of a shell pipeline, in seconds, with its stdout. */
function timed(script) {
  const start = process.hrtime.bigint()
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', script], {env, encoding: 'utf8', maxBuffer: 1 << 26})
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr}`)
  return {seconds, stdout: result.stdout}
}

/** Runs the scripts in turn, `runs` times, so that each sees the same machine load; medians in seconds. */
function compare(scripts) {
  const times = Object.fromEntries(Object.keys(scripts).map((name) => [name, []]))
  const outputs = {}
  for (let run = 0; run < runs; run++)
    for (const [name, script] of Object.entries(scripts)) {
      const {seconds, stdout} = timed(script)
      times[name].push(seconds)
      outputs[name] = stdout.trim()
    }
  return {medians: Object.fromEntries(Object.entries(times).map(([name, xs]) => [name, median(xs)])), outputs}
}

try {
  // Four topics whose timestamps interleave record by record, so the merge alternates between them.
  const t0 = 1_700_000_000_000
  for (const [k, topic] of TOPICS.entries()) {
    const file = await dataFile(`merge-${perTopic}-${k}.jsonl`, perTopic, (i) => JSON.stringify({value: `${topic}:${i}:${'x'.repeat(80)}`, timestamp: t0 + i * 4 + k}), log)
    log(`producing ${fmt(perTopic)} records into ${topic}`)
    timed(`${spool} produce ${topic} --input json < ${file}`)
  }
  // The same four feeds taking turns in bursts of 1,000 records: the merge writes each burst as one run.
  for (const [k, topic] of BURSTS.entries()) {
    const file = await dataFile(`burst-${perTopic}-${k}.jsonl`, perTopic, (i) => JSON.stringify({value: `${topic}:${i}:${'x'.repeat(80)}`, timestamp: t0 + (Math.floor(i / BURST) * 4 + k) * BURST + (i % BURST)}), log)
    log(`producing ${fmt(perTopic)} records into ${topic}`)
    timed(`${spool} produce ${topic} --input json < ${file}`)
  }
  const topics = TOPICS.join(' ')
  const bursts = BURSTS.join(' ')
  const merge = compare({
    consume: `${spool} consume ${topics} | wc -l`,
    'consume --merge': `${spool} consume ${topics} --merge | wc -l`,
    'consume --json': `${spool} consume ${topics} --json | wc -l`,
    'consume --merge --json': `${spool} consume ${topics} --merge --json | wc -l`,
    'consume (bursts)': `${spool} consume ${bursts} | wc -l`,
    'consume --merge (bursts)': `${spool} consume ${bursts} --merge | wc -l`,
  })
  for (const [name, output] of Object.entries(merge.outputs))
    if (Number(output) !== perTopic * TOPICS.length) throw new Error(`${name} printed ${output} records, not ${perTopic * TOPICS.length}`)

  log(`producing ${fmt(countRecords)} records into big`)
  const produced = timed(`seq 1 ${countRecords} | ${spool} produce big`)
  log(`produced in ${produced.seconds.toFixed(1)} s`)
  const count = compare({
    'spool count big': `${spool} count big`,
    'spool consume big | wc -l': `${spool} consume big | wc -l`,
    'spool count big --by partition': `${spool} count big --by partition`,
    'spool count big --by minute | wc -l': `${spool} count big --by minute | wc -l`,
  })
  if (count.outputs['spool count big'] !== String(countRecords) || count.outputs['spool consume big | wc -l'] !== String(countRecords))
    throw new Error(`count said ${count.outputs['spool count big']}, consume | wc -l ${count.outputs['spool consume big | wc -l']}, not ${countRecords}`)
  const readPath = JSON.parse(timed(`${spool} count big --json`).stdout)

  const out = []
  out.push(`## consume --merge: ${TOPICS.length} topics × ${fmt(perTopic)} records, ${runs} runs, medians`, '')
  out.push(`m0-m3: timestamps interleaved record by record; r0-r3: the topics take turns in bursts of ${BURST}.`, '')
  out.push('| command | seconds | records/s | × plain consume of the same topics |', '|---|---:|---:|---:|')
  for (const [name, seconds] of Object.entries(merge.medians)) {
    const burst = name.endsWith(' (bursts)')
    const command = name.replace(' (bursts)', '').replace('consume', `consume ${burst ? bursts : topics}`)
    const plain = burst ? merge.medians['consume (bursts)'] : merge.medians.consume
    out.push(`| \`spool ${command} \\| wc -l\` | ${seconds.toFixed(2)} | ${fmt((perTopic * TOPICS.length) / seconds)} | ${(seconds / plain).toFixed(2)} |`)
  }
  out.push('', `## count: one topic of ${fmt(countRecords)} records (\`seq 1 ${countRecords} | spool produce big\`), ${runs} runs, medians`, '')
  out.push('| command | seconds | × count |', '|---|---:|---:|')
  for (const [name, seconds] of Object.entries(count.medians)) out.push(`| \`${name.replaceAll('|', '\\|')}\` | ${seconds.toFixed(2)} | ${(seconds / count.medians['spool count big']).toFixed(1)} |`)
  out.push('', `\`spool count big --json\` reports read_records: ${readPath.read_records} (answered from batch metadata).`)
  process.stdout.write(`${out.join('\n')}\n`)
} finally {
  rmSync(work, {recursive: true, force: true})
}
