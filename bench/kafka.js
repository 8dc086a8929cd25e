#!/usr/bin/env node
// The Kafka section of `npm run bench`, and issue 14's side-by-side table: spool against kcat on one
// local broker (KRaft, from Maven-fetched jars), same input, same settings (acks=all, idempotence on),
// beside the local rows the issue compares them with. Rounds are interleaved (spool, kcat, spool,
// kcat...), the figure is the median of the rounds, and every row is a ratio measured in this one run,
// because the machine is shared and its load moves between runs. Prints Markdown on stdout.
//
// Environment: BENCH_RECORDS (default 1000000), BENCH_RUNS (rounds, default 3), BENCH_BASELINE (the
// bin/run.js of another spool checkout, e.g. /work/main/bin/run.js: its Kafka produce and consume run in
// the same rounds, for a before/after measured side by side), BENCH_JAVA_TOOLS=1 (also Kafka's own
// kafka-producer-perf-test and kafka-consumer-perf-test), BENCH_BROKER (host:port of a running broker to
// use instead of starting one), BENCH_KAFKA_ONLY=1 (only Kafka produce and consume, with the empty runs
// that the net rows take off).
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {kafkaToolCommand, startBroker} from '../scripts/kafka-broker.mjs'
import {dataFile} from './data-file.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const baseline = process.env.BENCH_BASELINE
const records = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const javaTools = process.env.BENCH_JAVA_TOOLS === '1'
// BENCH_KAFKA_ONLY=1: only Kafka produce and consume (and their start-up, for the net rows), a shorter run.
const kafkaOnly = process.env.BENCH_KAFKA_ONLY === '1'
const work = mkdtempSync(join(tmpdir(), 'spool-bench-kafka-'))
const log = (line) => process.stderr.write(`bench: ${line}\n`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')

if (spawnSync('kcat', ['-V']).status !== 0) {
  process.stderr.write('bench: kcat is not installed (apt-get install kcat)\n')
  process.exit(1)
}
if (spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status !== 0) {
  process.stderr.write('bench: /usr/bin/time (GNU time) is needed for CPU time and peak RSS (apt-get install time)\n')
  process.exit(1)
}
// The same 1M lines of exactly 100 bytes as bench/run.js (generated once into bench/.data).
const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3)
const lines = await dataFile(`lines-${records}.txt`, records, (i) => `${i}:${pad.slice(0, 100 - `${i}:`.length)}`, log)

const broker = process.env.BENCH_BROKER ? {plaintext: process.env.BENCH_BROKER, version: '(given)', stop: async () => {}} : await startBroker({log})
const kafka = `kafka://${broker.plaintext}`
const env = {...process.env, SPOOL_HOME: join(work, 'home'), SPOOL_CONFIG_HOME: join(work, 'config'), NO_COLOR: '1'}
delete env.SPOOL_BROKER
const kcatProduce = `kcat -P -b ${broker.plaintext} -X acks=all -X enable.idempotence=true`
const kcatConsume = `kcat -C -b ${broker.plaintext} -e -q`
const splitter = join(work, 'split.js')
// Node's own floor for local produce: read stdin and find the line ends, nothing else.
writeFileSync(
  splitter,
  "let n = 0\nprocess.stdin.on('data', (c) => { for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) n++ }).on('end', () => console.log(n))\n",
)

/**
 * Runs `command` (a shell line; its first program is the one measured) under GNU time, piped into `tail`
 * (a shell suffix such as `| wc -l`): wall, user+sys and peak RSS of the measured program alone.
 */
function measure(command, {tail = '> /dev/null', input, check, home} = {}) {
  const stats = join(work, 'time.txt')
  const script = `/usr/bin/time -o ${stats} -f '%e %U %S %M' ${command}${input ? ` < ${input}` : ''} ${tail}`
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', script], {env: home ? {...env, SPOOL_HOME: home} : env, encoding: 'utf8', maxBuffer: 1 << 26})
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr}`)
  check?.(result.stdout)
  const [wall, user, sys, rssKiB] = readFileSync(stats, 'utf8').trim().split('\n').at(-1).split(' ').map(Number)
  return {wall, cpu: user + sys, rss: rssKiB / 1024}
}
const countIs = (expected) => (stdout) => {
  if (Number(stdout.trim()) !== expected) throw new Error(`read ${stdout.trim()} records, not ${expected}`)
}
let topicNumber = 0
// A run's own prefix: a second run on the same BENCH_BROKER would find the first run's topics.
const topicPrefix = `bench-${process.pid}`
const newTopic = () => {
  const name = `${topicPrefix}-${++topicNumber}`
  execFileSync(process.execPath, [bin, 'topic', 'create', name, '-b', kafka], {env, stdio: 'ignore'})
  return name
}
const java = (mainClass, args) => {
  const [command, argv] = kafkaToolCommand(mainClass, args)
  return [command, ...argv].map((a) => `'${a}'`).join(' ')
}

const results = {}
const add = (name, figures) => (results[name] ??= []).push(figures)
const med = (name, field = 'wall') => median(results[name].map((r) => r[field]))

try {
  const empty = newTopic()
  const one = newTopic()
  let checked
  const spools = [['spool', bin], ...(baseline ? [['spool (baseline)', baseline]] : [])]
  for (let run = 0; run < runs; run++) {
    log(`round ${run + 1} of ${runs}: Kafka produce`)
    const topics = {}
    for (const [name, path] of spools) {
      topics[name] = newTopic()
      checked ??= topics[name]
      add(`${name} produce → Kafka`, measure(`node ${path} produce ${topics[name]} -b ${kafka}`, {input: lines}))
      topics.kcat = newTopic()
      add('kcat produce → Kafka', measure(`${kcatProduce} -t ${topics.kcat}`, {input: lines}))
    }
    // Keyed lines (-K :, the number before the colon as the key): peak RSS is bound for any produce.
    add('spool produce -K : → Kafka', measure(`node ${bin} produce ${newTopic()} -K : -b ${kafka}`, {input: lines}))
    add('kcat produce -K : → Kafka', measure(`${kcatProduce} -K : -t ${newTopic()}`, {input: lines}))
    if (javaTools) {
      topics.perf = newTopic()
      add(
        'kafka-producer-perf-test',
        measure(java('org.apache.kafka.tools.ProducerPerformance', ['--topic', topics.perf, '--num-records', String(records), '--record-size', '100', '--throughput', '-1', '--producer-props', `bootstrap.servers=${broker.plaintext}`, 'acks=all'])),
      )
    }
    log(`round ${run + 1} of ${runs}: Kafka consume`)
    for (const [name, path] of spools) {
      add(`${name} consume ← Kafka`, measure(`node ${path} consume ${topics[name]} -b ${kafka}`, {tail: '| wc -l', check: countIs(records)}))
      add('kcat consume ← Kafka', measure(`${kcatConsume} -t ${topics.kcat}`, {tail: '| wc -l', check: countIs(records)}))
    }
    if (javaTools)
      add('kafka-consumer-perf-test', measure(java('org.apache.kafka.tools.ConsumerPerformance', ['--bootstrap-server', broker.plaintext, '--topic', topics.perf, '--messages', String(records), '--timeout', '60000'])))
    log(`round ${run + 1} of ${runs}: start-up, one record, topic list`)
    for (let i = 0; i < 3; i++) {
      // A produce and a consume with nothing to do: start-up, connection, metadata, and no records.
      add('spool produce → Kafka, empty input', measure(`node ${bin} produce ${empty} -b ${kafka}`, {input: '/dev/null'}))
      add('kcat produce → Kafka, empty input', measure(`${kcatProduce} -t ${empty}`, {input: '/dev/null'}))
      add('spool consume ← Kafka, empty topic', measure(`node ${bin} consume ${empty} -b ${kafka}`))
      add('kcat consume ← Kafka, empty topic', measure(`${kcatConsume} -t ${empty}`))
      if (kafkaOnly) continue
      add('spool produce → Kafka, one record', measure(`node ${bin} produce ${one} -b ${kafka}`, {input: '<(echo x)'}))
      add('kcat produce → Kafka, one record', measure(`${kcatProduce} -t ${one}`, {input: '<(echo x)'}))
      add('spool topic list (local)', measure(`node ${bin} topic list`))
      add('spool topic list (Kafka)', measure(`node ${bin} topic list -b ${kafka}`))
    }
    if (kafkaOnly) continue
    log(`round ${run + 1} of ${runs}: local`)
    const home = join(work, `local-${run}`)
    add('spool produce → local store', measure(`node ${bin} produce lines`, {input: lines, home}))
    add('spool produce -K : → local store', measure(`node ${bin} produce keyed -K :`, {input: lines, home}))
    add('node read-and-split', measure(`node ${splitter}`, {input: lines, tail: '| wc -l'}))
    add('spool consume ← local store', measure(`node ${bin} consume lines`, {tail: '| wc -l', check: countIs(records), home}))
    add('spool consume --json ← local store', measure(`node ${bin} consume lines --json`, {tail: '| wc -l', check: countIs(records), home}))
    rmSync(home, {recursive: true, force: true})
  }
  const identical = spawnSync('bash', ['-c', `node ${bin} consume ${checked} -b ${kafka} | cmp -s - ${lines}`], {env}).status === 0
  const kcatReadsSpool = spawnSync('bash', ['-c', `${kcatConsume} -t ${checked} | cmp -s - ${lines}`], {env}).status === 0

  const seconds = (s) => `${s.toFixed(2)} s`
  const ms = (s) => `${(s * 1000).toFixed(0)} ms`
  const rate = (name) => `${fmt(records / med(name))}/s`
  const yes = (ok) => (ok ? 'yes' : '**no**')
  const produceStart = med('spool produce → Kafka, empty input')
  const consumeStart = med('spool consume ← Kafka, empty topic')
  const kcatProduceStart = med('kcat produce → Kafka, empty input')
  const kcatConsumeStart = med('kcat consume ← Kafka, empty topic')
  const ratio = (a, b) => a / b
  const rows = []
  const row = (measureName, figure, reference, value, target, ok) => rows.push(`| ${measureName} | ${figure} | ${reference} | ${value} | ${target} | ${yes(ok)} |`)

  const kp = ratio(med('spool produce → Kafka'), med('kcat produce → Kafka'))
  row('Kafka produce vs kcat (wall)', seconds(med('spool produce → Kafka')), seconds(med('kcat produce → Kafka')), `${kp.toFixed(2)}x`, '≤ 1.2x', kp <= 1.2)
  const kpNet = ratio(med('spool produce → Kafka') - produceStart, med('kcat produce → Kafka') - kcatProduceStart)
  row('Kafka produce vs kcat, net of start-up', seconds(med('spool produce → Kafka') - produceStart), seconds(med('kcat produce → Kafka') - kcatProduceStart), `${kpNet.toFixed(2)}x`, '≤ 1.2x', kpNet <= 1.2)
  const kc = ratio(med('spool consume ← Kafka'), med('kcat consume ← Kafka'))
  row('Kafka consume vs kcat (wall)', seconds(med('spool consume ← Kafka')), seconds(med('kcat consume ← Kafka')), `${kc.toFixed(2)}x`, '≤ 1.0x', kc <= 1.0)
  const kcNet = ratio(med('spool consume ← Kafka') - consumeStart, med('kcat consume ← Kafka') - kcatConsumeStart)
  row('Kafka consume vs kcat, net of start-up', seconds(med('spool consume ← Kafka') - consumeStart), seconds(med('kcat consume ← Kafka') - kcatConsumeStart), `${kcNet.toFixed(2)}x`, '≤ 1.0x', kcNet <= 1.0)
  if (!kafkaOnly) {
    const lp = ratio(med('spool produce → local store'), med('kcat produce → Kafka'))
    row('local produce vs kcat into Kafka', seconds(med('spool produce → local store')), seconds(med('kcat produce → Kafka')), `${lp.toFixed(2)}x`, '≤ 0.65x', lp <= 0.65)
    const ls = ratio(med('spool produce → local store'), med('node read-and-split'))
    row('local produce vs Node read-and-split', seconds(med('spool produce → local store')), seconds(med('node read-and-split')), `${ls.toFixed(2)}x`, '≤ 2x', ls <= 2)
    const lc = records / med('spool consume ← local store')
    row('local consume `\\| wc -l`', seconds(med('spool consume ← local store')), '', rate('spool consume ← local store'), '≥ 3M/s', lc >= 3e6)
    const lj = records / med('spool consume --json ← local store')
    row('local consume --json `\\| wc -l`', seconds(med('spool consume --json ← local store')), '', rate('spool consume --json ← local store'), '≥ 1M/s', lj >= 1e6)
    const tl = med('spool topic list (Kafka)') - med('spool topic list (local)')
    row('topic list: Kafka − local', ms(med('spool topic list (Kafka)')), ms(med('spool topic list (local)')), `+${ms(tl)}`, '≤ 150 ms', tl <= 0.15)
    const or = med('spool produce → Kafka, one record')
    row('one record to Kafka (spool; kcat)', ms(or), ms(med('kcat produce → Kafka, one record')), ms(or), '< 150 ms', or < 0.15)
  }
  for (const name of ['spool produce → Kafka', 'spool produce -K : → Kafka', 'spool consume ← Kafka', 'spool produce → local store', 'spool produce -K : → local store', 'spool consume ← local store', 'spool consume --json ← local store'].filter((n) => results[n])) {
    const rss = Math.max(...results[name].map((r) => r.rss))
    row(`peak RSS: ${name}`, `${rss.toFixed(0)} MiB`, '', '', '≤ 150 MiB', rss <= 150)
  }

  const detail = Object.keys(results).map((name) => {
    const rss = Math.max(...results[name].map((r) => r.rss))
    return `| ${name} | ${seconds(med(name))} | ${seconds(med(name, 'cpu'))} | ${rss.toFixed(0)} MiB | ${results[name].length} |`
  })
  const baselineRows = baseline
    ? [
        '',
        `Baseline (${baseline}) in the same rounds: produce ${seconds(med('spool (baseline) produce → Kafka'))} (${(med('spool (baseline) produce → Kafka') / med('kcat produce → Kafka')).toFixed(2)}x kcat), consume ${seconds(med('spool (baseline) consume ← Kafka'))} (${(med('spool (baseline) consume ← Kafka') / med('kcat consume ← Kafka')).toFixed(2)}x kcat); this build: ${kp.toFixed(2)}x and ${kc.toFixed(2)}x.`,
      ]
    : []
  process.stdout.write(
    [
      `## Issue 14 side by side: Kafka ${broker.version}, one local broker (KRaft), ${fmt(records)} × 100-byte records, median of ${runs} interleaved rounds`,
      '',
      'Wall time of each command, start-up included unless the row says "net"; "net of start-up" takes off the median of each tool\'s own',
      'run with nothing to do (produce of empty input, consume of an empty topic: start-up, connection, metadata). acks=all and',
      'idempotence on for both producers; one partition; no compression.',
      '',
      '| measure | spool | reference | ratio or figure | target | met |',
      '|---|---|---|---|---|---|',
      ...rows,
      ...baselineRows,
      '',
      '| command | wall (median) | user+sys (median) | peak RSS (max) | runs |',
      '|---|---|---|---|---|',
      ...detail,
      '',
      `spool's consumed output identical to the input: ${yes(identical)}; kcat reads spool's topic identical to the input: ${yes(kcatReadsSpool)}.`,
      '',
    ].join('\n'),
  )
} finally {
  await broker.stop()
  rmSync(work, {recursive: true, force: true})
}
