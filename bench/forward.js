#!/usr/bin/env node
// The edge forwarder (issue 12) against one local broker, in one run: `spool produce` straight into Kafka
// versus `spool produce` into the local store and `spool pipe -g` forwarding it (exactly once, stamped)
// and without -g (no stamps); then an outage: the broker stopped for OUTAGE_S seconds while records keep
// arriving locally, with the forwarder's state lines, the records waiting, and the time from the
// broker's return to the first record forwarded. Prints Markdown on stdout.
// Options (environment): BENCH_RECORDS (default 200000), BENCH_RUNS (3), OUTAGE_S (10), OUTAGE_ONLY=1
// (the outage alone).
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {startBroker} from '../scripts/kafka-broker.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const records = Number(process.env.BENCH_RECORDS ?? 200_000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const outageSeconds = Number(process.env.OUTAGE_S ?? 10)
const work = mkdtempSync(join(tmpdir(), 'spool-bench-forward-'))
const log = (line) => process.stderr.write(`bench: ${line}\n`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// 100-byte lines, as the other benches use (99 bytes and a newline).
const lines = join(work, 'lines.txt')
writeFileSync(lines, Array.from({length: records}, (_, i) => `${String(i).padStart(10, '0')}${'x'.repeat(89)}\n`).join(''))

const broker = await startBroker({log})
const kafka = `kafka://${broker.plaintext}`
const env = {...process.env, SPOOL_HOME: work, SPOOL_CONFIG_HOME: join(work, 'config'), NO_COLOR: '1'}
delete env.SPOOL_BROKER
const sh = (script) => spawnSync('bash', ['-o', 'pipefail', '-c', script], {env, encoding: 'utf8', maxBuffer: 1 << 26})

function timed(script) {
  const start = process.hrtime.bigint()
  const result = sh(script)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr}`)
  return seconds
}

/** Records in a Kafka topic, from kcat's end offsets (one partition). */
function endOffset(topic) {
  try {
    const out = execFileSync('kcat', ['-Q', '-b', broker.plaintext, '-t', `${topic}:0:-1`], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
    return Number(/offset (\d+)/.exec(out)?.[1] ?? 0)
  } catch {
    return -1
  }
}

let topicNumber = 0
const next = (name) => `${name}-${++topicNumber}`

try {
  const results = {}
  const add = (name, seconds) => (results[name] ??= []).push(seconds)
  for (let run = 0; run < (process.env.OUTAGE_ONLY ? 0 : runs); run++) {
    log(`throughput, run ${run + 1}`)
    const direct = next('direct')
    add('spool produce → Kafka', timed(`node ${bin} produce ${direct} -b ${kafka} < ${lines}`))
    const local = next('local')
    timed(`node ${bin} produce ${local} < ${lines}`)
    add('spool pipe local → Kafka -g (exactly once, stamped)', timed(`node ${bin} pipe ${local} ${kafka}/${next('forwarded')} -g fwd`))
    add('spool pipe local → Kafka, no group (no stamps)', timed(`node ${bin} pipe ${local} ${kafka}/${next('plain')}`))
  }
  const base = median(results['spool produce → Kafka'] ?? [1])
  if (!process.env.OUTAGE_ONLY) console.log(`### Forwarding ${fmt(records)} × 100-byte records, local store → Kafka (median of ${runs}, same run)\n`)
  if (!process.env.OUTAGE_ONLY) console.log('| | median s | records/s | × produce straight into Kafka |\n|---|---:|---:|---:|')
  for (const [name, xs] of Object.entries(results)) console.log(`| ${name} | ${median(xs).toFixed(2)} | ${fmt(records / median(xs))} | ${(median(xs) / base).toFixed(2)} |`)

  // The outage: a steady local producer, a following forwarder, the broker stopped and started.
  log('outage')
  const source = next('readings')
  const destination = next('central')
  execFileSync(process.execPath, [bin, 'topic', 'create', source], {env, stdio: 'ignore'})
  const producer = spawn(process.execPath, [bin, 'produce', source], {env, stdio: ['pipe', 'ignore', 'inherit']})
  let produced = 0
  const rate = 2000
  const feeding = setInterval(() => {
    const batch = rate / 20
    producer.stdin.write(Array.from({length: batch}, (_, i) => `reading ${produced + i}\n`).join(''))
    produced += batch
  }, 50)
  const forwarder = spawn(process.execPath, [bin, 'pipe', source, `${kafka}/${destination}`, '-g', 'uplink', '-f', '--timeout', '2s'], {env, stdio: ['ignore', 'ignore', 'pipe']})
  const stderrLines = []
  const started = Date.now()
  forwarder.stderr.on('data', (d) => {
    for (const line of d.toString().split('\n').filter(Boolean)) stderrLines.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${line}`)
  })
  // The outage starts once records flow into Kafka, not while the forwarder is still starting.
  while (endOffset(destination) <= 0) await sleep(100)
  await sleep(2000)
  const before = endOffset(destination)
  await broker.halt()
  const stoppedAt = Date.now()
  await sleep(outageSeconds * 1000)
  const restartBegan = Date.now()
  await broker.restart()
  const upAt = Date.now()
  let firstForwarded
  for (;;) {
    const end = endOffset(destination)
    if (end > before) {
      firstForwarded = Date.now()
      break
    }
    if (Date.now() - upAt > 120_000) throw new Error('nothing forwarded within 120 s of the broker coming back')
    await sleep(20)
  }
  let caughtUp
  for (;;) {
    if (endOffset(destination) >= produced - rate) {
      caughtUp = Date.now()
      break
    }
    await sleep(50)
  }
  clearInterval(feeding)
  producer.stdin.end()
  forwarder.kill('SIGINT')
  await new Promise((r) => forwarder.once('close', r))
  console.log(`\n### An outage of ${outageSeconds} s while ${fmt(rate)} records/s arrive locally\n`)
  console.log(`- broker stopped ${((restartBegan - stoppedAt) / 1000).toFixed(1)} s, then took ${((upAt - restartBegan) / 1000).toFixed(1)} s to start again`)
  console.log(`- broker up (its "Kafka Server started" line) → first record forwarded: ${fmt(firstForwarded - upAt)} ms (kcat polled every 20 ms)`)
  console.log(`- broker up → forwarder caught up (within one second of arrivals): ${((caughtUp - upAt) / 1000).toFixed(1)} s`)
  console.log('- the forwarder\'s stderr, with seconds since it started:\n')
  for (const line of stderrLines) console.log(`      ${line}`)
} finally {
  await broker.stop()
  rmSync(work, {recursive: true, force: true})
}
