#!/usr/bin/env node
// The Kafka section of `npm run bench`: produce and consume 1M 100-byte records against one local
// broker (KRaft, from Maven-fetched jars) with spool, kcat and Kafka's own perf tools, side by side in one
// run. Prints Markdown on stdout. Options (environment): BENCH_RECORDS (default 1000000), BENCH_RUNS (3).
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {kafkaToolCommand, startBroker} from '../scripts/kafka-broker.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const records = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const lines = join(root, 'bench', '.data', `lines-${records}.txt`)
const work = mkdtempSync(join(tmpdir(), 'spool-bench-kafka-'))
const log = (line) => process.stderr.write(`bench: ${line}\n`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')

if (!existsSync(lines) || statSync(lines).size !== records * 101) {
  process.stderr.write(`bench: ${lines} is missing: run \`npm run bench\` (bench/run.js writes it) first\n`)
  process.exit(1)
}
if (spawnSync('kcat', ['-V']).status !== 0) {
  process.stderr.write('bench: kcat is not installed (apt-get install kcat)\n')
  process.exit(1)
}

const broker = await startBroker({log})
const env = {...process.env, SPOOL_HOME: work, SPOOL_CONFIG_HOME: join(work, 'config'), SPOOL_BROKER: `kafka://${broker.plaintext}`, NO_COLOR: '1'}
const sh = (script) => spawnSync('bash', ['-o', 'pipefail', '-c', script], {env, encoding: 'utf8', maxBuffer: 1 << 26})

function timed(script, check) {
  const start = process.hrtime.bigint()
  const result = sh(script)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr}`)
  check?.(result.stdout)
  return seconds
}

const java = (mainClass, args) => {
  const [command, argv] = kafkaToolCommand(mainClass, args)
  return [command, ...argv].map((a) => `'${a}'`).join(' ')
}
let topicNumber = 0
const newTopic = () => {
  const name = `bench-${++topicNumber}`
  execFileSync(process.execPath, [bin, 'topic', 'create', name], {env, stdio: 'ignore'})
  return name
}
const countIs = (expected) => (stdout) => {
  if (Number(stdout.trim()) !== expected) throw new Error(`read ${stdout.trim()} records, not ${expected}`)
}

try {
  const results = {}
  const add = (name, seconds) => (results[name] ??= []).push(seconds)
  const topics = {}
  for (let run = 0; run < runs; run++) {
    log(`produce, run ${run + 1}`)
    topics.spool = newTopic()
    add('produce: spool', timed(`node ${bin} produce ${topics.spool} < ${lines}`))
    topics.kcat = newTopic()
    add('produce: kcat', timed(`kcat -P -b ${broker.plaintext} -t ${topics.kcat} < ${lines}`))
    topics.perf = newTopic()
    add(
      'produce: kafka-producer-perf-test',
      timed(java('org.apache.kafka.tools.ProducerPerformance', ['--topic', topics.perf, '--num-records', String(records), '--record-size', '100', '--throughput', '-1', '--producer-props', `bootstrap.servers=${broker.plaintext}`, 'acks=all'])),
    )
  }
  for (let run = 0; run < runs; run++) {
    log(`consume, run ${run + 1}`)
    add('consume: spool', timed(`node ${bin} consume ${topics.spool} | wc -l`, countIs(records)))
    add('consume: kcat', timed(`kcat -C -b ${broker.plaintext} -t ${topics.kcat} -e -q | wc -l`, countIs(records)))
    add(
      'consume: kafka-consumer-perf-test',
      timed(java('org.apache.kafka.tools.ConsumerPerformance', ['--bootstrap-server', broker.plaintext, '--topic', topics.perf, '--messages', String(records), '--timeout', '60000'])),
    )
  }
  const identical = sh(`node ${bin} consume ${topics.spool} | cmp -s - ${lines}`).status === 0
  const kcatReadsSpool = sh(`kcat -C -b ${broker.plaintext} -t ${topics.spool} -e -q | cmp -s - ${lines}`).status === 0
  const startup = []
  for (let i = 0; i < 10; i++) startup.push(timed(`node ${bin} topic list > /dev/null`))
  const nodeStart = []
  for (let i = 0; i < 10; i++) nodeStart.push(timed(`node -e 0`))

  const row = (name, reference) => {
    const s = median(results[name])
    return `| ${name} | ${s.toFixed(2)} s | ${fmt(records / s)} | ${(s / median(results[reference])).toFixed(2)}x |`
  }
  process.stdout.write(
    [
      `## Kafka ${broker.version}, one local broker (KRaft), ${fmt(records)} × 100-byte records, median of ${runs} runs`,
      '',
      'Wall time of each command, start-up included; acks=all everywhere; one partition; no compression.',
      '',
      '| command | time | records/s | vs kcat |',
      '|---|---|---|---|',
      row('produce: spool', 'produce: kcat'),
      row('produce: kcat', 'produce: kcat'),
      row('produce: kafka-producer-perf-test', 'produce: kcat'),
      row('consume: spool', 'consume: kcat'),
      row('consume: kcat', 'consume: kcat'),
      row('consume: kafka-consumer-perf-test', 'consume: kcat'),
      '',
      `spool's consumed output identical to the input: ${identical ? 'yes' : '**NO**'}; kcat reads spool's topic identical to the input: ${kcatReadsSpool ? 'yes' : '**NO**'}.`,
      `Start-up of a Kafka command (\`spool topic list\` against the broker, median of 10): ${(median(startup) * 1000).toFixed(0)} ms (node -e 0: ${(median(nodeStart) * 1000).toFixed(0)} ms).`,
      '',
    ].join('\n'),
  )
} finally {
  await broker.stop()
  rmSync(work, {recursive: true, force: true})
}
