#!/usr/bin/env node
// A Kafka command's start-up against a local one and against kcat (issue 14: a Kafka `topic list` within
// 150 ms of a local `topic list`; one record to Kafka under 150 ms, start-up included). Starts a broker
// (scripts/kafka-broker.mjs) and runs, interleaved round by round so that a busy moment of the machine hits
// every command alike: `node -e 0`, `spool topic list` (local), `spool topic list -b kafka://...`,
// `echo x | spool produce T -b kafka://...`, `echo x | kcat -P -b ... -t T`, and the import of the Kafka
// backend's chunk alone (`node -e`, compile cache on, as bin/run.js has it). Each figure is the median
// of the rounds: wall time, and CPU time (user+sys, from GNU time) beside it. Prints Markdown on stdout.
// Options (environment): BENCH_ROUNDS (default 15); BENCH_KAFKA_BROKER=HOST:PORT to use a running
// broker instead of starting one; BENCH_BEFORE=/path/to/bin/run.js adds the same spool commands of
// another build (an earlier commit) to the rotation, to compare before and after in one run.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const before = process.env.BENCH_BEFORE
const rounds = Number(process.env.BENCH_ROUNDS ?? 15)
const log = (line) => process.stderr.write(`bench: ${line}\n`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const work = mkdtempSync(join(tmpdir(), 'spool-bench-kafka-startup-'))
const timeFile = join(work, 'time')
// The compile cache is on, as for any user (bin/run.js), in a directory of this run.
const env = {...process.env, SPOOL_HOME: work, SPOOL_CONFIG_HOME: join(work, 'config'), NO_COLOR: '1', NODE_COMPILE_CACHE: join(work, 'compile-cache')}
delete env.SPOOL_BROKER
delete env.NODE_DISABLE_COMPILE_CACHE
delete env.DEBUG

/** One run: wall ms (spawn to exit) and CPU ms (user+sys of the command, from GNU time). */
function timed(argv, input) {
  const start = process.hrtime.bigint()
  const result = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, ...argv], {env, input, stdio: ['pipe', 'ignore', 'pipe']})
  const wall = Number(process.hrtime.bigint() - start) / 1e6
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (${result.status}): ${result.stderr}`)
  const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number)
  return {wall, cpu: (user + sys) * 1000}
}

let broker
try {
  let address = process.env.BENCH_KAFKA_BROKER
  if (!address) {
    const {startBroker} = await import('../scripts/kafka-broker.mjs')
    broker = await startBroker({log})
    address = broker.plaintext
  }
  const kafka = `kafka://${address}`
  const topic = `startup-${process.pid}`
  const node = process.execPath
  spawnSync(node, [bin, 'topic', 'create', topic, '-b', kafka], {env, stdio: 'inherit'})
  spawnSync(node, [bin, 'produce', 'local-topic'], {env, input: 'x\n'})
  // The Kafka backend's chunk (the client is bundled into it) imported alone: its load, without the CLI
  // or the network. An earlier build imports the client from node_modules there.
  const chunkImport = (build) => {
    const chunks = join(dirname(build), '..', 'dist', 'bundle', 'chunks')
    const chunk = readdirSync(chunks).find((name) => /^kafka-backend-.*\.js$/.test(name))
    const script = `import {enableCompileCache} from 'node:module'; enableCompileCache(); await import(${JSON.stringify(pathToFileURL(join(chunks, chunk)).href)})`
    return {argv: [node, '--input-type=module', '-e', script]}
  }
  const spool = (build, label) => ({
    [`import of the Kafka backend chunk${label}`]: chunkImport(build),
    [`spool topic list (local)${label}`]: {argv: [node, build, 'topic', 'list']},
    [`spool topic list -b kafka://…${label}`]: {argv: [node, build, 'topic', 'list', '-b', kafka]},
    [`echo x | spool produce T -b kafka://…${label}`]: {argv: [node, build, 'produce', topic, '-b', kafka], input: 'x\n'},
  })
  const commands = {
    'node -e 0': {argv: [node, '-e', '0']},
    ...spool(bin, ''),
    ...(before ? spool(before, ' [before]') : {}),
    'echo x | kcat -P -b … -t T': {argv: ['kcat', '-P', '-b', address, '-t', topic], input: 'x\n'},
  }
  // Warm the OS file cache and fill the compile cache once before timing.
  for (const {argv, input} of Object.values(commands)) timed(argv, input ?? '')
  const times = Object.fromEntries(Object.keys(commands).map((name) => [name, {wall: [], cpu: []}]))
  for (let round = 0; round < rounds; round++) {
    for (const [name, {argv, input}] of Object.entries(commands)) {
      const {wall, cpu} = timed(argv, input ?? '')
      times[name].wall.push(wall)
      times[name].cpu.push(cpu)
    }
    log(`round ${round + 1}/${rounds}`)
  }
  const wall = (name) => median(times[name].wall)
  const cpu = (name) => median(times[name].cpu)
  const kcat = 'echo x | kcat -P -b … -t T'
  const rows = Object.keys(commands).map(
    (name) => `| ${name} | ${wall(name).toFixed(0)} ms | ${cpu(name).toFixed(0)} ms | ${(wall(name) / wall('node -e 0')).toFixed(2)} | ${(wall(name) / wall(kcat)).toFixed(1)} |`,
  )
  const targets = (label) => {
    const list = wall(`spool topic list -b kafka://…${label}`) - wall(`spool topic list (local)${label}`)
    const listCpu = cpu(`spool topic list -b kafka://…${label}`) - cpu(`spool topic list (local)${label}`)
    const produce = wall(`echo x | spool produce T -b kafka://…${label}`)
    return [
      `- Kafka topic list minus local topic list${label}: ${list.toFixed(0)} ms wall (target at most 150 ms: ${list <= 150 ? 'met' : 'not met'}), ${listCpu.toFixed(0)} ms CPU`,
      `- one record to Kafka${label}: ${produce.toFixed(0)} ms wall (target under 150 ms: ${produce < 150 ? 'met' : 'not met'}), ${cpu(`echo x | spool produce T -b kafka://…${label}`).toFixed(0)} ms CPU; kcat ${wall(kcat).toFixed(0)} ms`,
    ]
  }
  process.stdout.write(
    [
      `## Kafka start-up (Node ${process.version}, median of ${rounds} interleaved rounds)`,
      '',
      '| command | wall | CPU (user+sys) | wall / node -e 0 | wall / kcat |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      ...targets(''),
      ...(before ? targets(' [before]') : []),
      '',
    ].join('\n'),
  )
} finally {
  await broker?.stop()
  rmSync(work, {recursive: true, force: true})
}
