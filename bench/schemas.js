#!/usr/bin/env node
// Schema codecs end to end: `npm run bench:schemas` (builds first). Produces 1M small records (an Avro
// record of 5 fields, as canonical JSON lines) with --value-schema, reads them back with --decode, and
// does the same without schemas in the same run for comparison. Median of BENCH_RUNS (default 3) rounds,
// interleaved. Options (environment): BENCH_RECORDS (default 1000000), BENCH_RUNS.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {dataFile} from './data-file.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const records = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const work = mkdtempSync(join(tmpdir(), 'spool-bench-schemas-'))
const env = {...process.env, SPOOL_HOME: work, NO_COLOR: '1'}
delete env.SPOOL_BROKER
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const log = (line) => process.stderr.write(`bench: ${line}\n`)

const schema = {
  type: 'record',
  name: 'Reading',
  fields: [
    {name: 'sensor', type: 'string'},
    {name: 'seq', type: 'long'},
    {name: 'value', type: 'double'},
    {name: 'ok', type: 'boolean'},
    {name: 'unit', type: {type: 'enum', name: 'Unit', symbols: ['C', 'F', 'K']}},
  ],
}

function inputFile() {
  const line = (i) => `{"sensor":"s-${i % 100}","seq":${i},"value":${(i % 1000) / 8},"ok":${i % 7 !== 0},"unit":"${'CFK'[i % 3]}"}`
  return dataFile(`readings-${records}.jsonl`, records, line, log)
}

function timed(script) {
  const start = process.hrtime.bigint()
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', script], {env: {...env, spool: `${process.execPath} ${bin}`}, encoding: 'utf8', maxBuffer: 1 << 26})
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr}`)
  return {seconds, stdout: result.stdout}
}

async function main() {
  const input = await inputFile()
  const schemaFile = join(work, 'reading.avsc')
  writeFileSync(schemaFile, JSON.stringify(schema))
  const figures = {plainProduce: [], typedProduce: [], plainConsume: [], typedConsume: []}
  for (let round = 1; round <= runs; round++) {
    log(`round ${round} of ${runs}`)
    rmSync(join(work, 'spool.db'), {force: true})
    rmSync(join(work, 'spool.db-wal'), {force: true})
    rmSync(join(work, 'spool.db-shm'), {force: true})
    figures.plainProduce.push(timed(`$spool produce plain < ${input}`).seconds)
    figures.typedProduce.push(timed(`$spool produce typed --value-schema ${schemaFile} < ${input}`).seconds)
    figures.plainConsume.push(timed('$spool consume plain | wc -l').seconds)
    const decoded = timed('$spool consume typed --decode | wc -l')
    if (Number(decoded.stdout.trim()) !== records) throw new Error(`--decode printed ${decoded.stdout.trim()} lines, not ${records}`)
    figures.typedConsume.push(decoded.seconds)
  }
  const same = timed(`cmp <($spool consume typed --decode) ${input} && echo same`).stdout.trim() === 'same'
  const rate = (seconds) => fmt(records / seconds)
  const [pp, tp, pc, tc] = [figures.plainProduce, figures.typedProduce, figures.plainConsume, figures.typedConsume].map(median)
  console.log(`## Schemas (${fmt(records)} Avro records of 5 fields, median of ${runs})\n`)
  console.log('| | wall | records/s | vs plain |')
  console.log('|---|---:|---:|---:|')
  console.log(`| produce (the JSON lines as they are) | ${pp.toFixed(2)} s | ${rate(pp)} | 1.00x |`)
  console.log(`| produce --value-schema reading.avsc | ${tp.toFixed(2)} s | ${rate(tp)} | ${(tp / pp).toFixed(2)}x |`)
  console.log(`| consume | ${pc.toFixed(2)} s | ${rate(pc)} | 1.00x |`)
  console.log(`| consume --decode | ${tc.toFixed(2)} s | ${rate(tc)} | ${(tc / pc).toFixed(2)}x |`)
  console.log(`\nconsume --decode output equals the input: ${same ? 'yes' : 'NO'}`)
  rmSync(work, {recursive: true, force: true})
}

await main()
