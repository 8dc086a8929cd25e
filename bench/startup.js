#!/usr/bin/env node
// Start-up on each supported Node line (22, 24, 26; fetched by scripts/node-line.sh), each against
// `node -e 0` of the same Node: `spool --version`, a one-record local produce, a local `topic list` and a
// Kafka `topic list` (against one local broker). Spawns are interleaved round by round, so a busy moment
// of the machine hits every command alike; each figure is the median of the rounds. The compile cache
// (module.enableCompileCache in bin/run.js) is measured on and off (NODE_DISABLE_COMPILE_CACHE=1).
// Prints Markdown on stdout. Options (environment): BENCH_STARTUP_ROUNDS (default 20),
// BENCH_NODE_LINES (default "22 24 26"), BENCH_KAFKA=0 to leave Kafka out.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const rounds = Number(process.env.BENCH_STARTUP_ROUNDS ?? 20)
const lines = (process.env.BENCH_NODE_LINES ?? '22 24 26').split(/\s+/).filter(Boolean)
const withKafka = process.env.BENCH_KAFKA !== '0'
const log = (line) => process.stderr.write(`bench: ${line}\n`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const work = mkdtempSync(join(tmpdir(), 'spool-bench-startup-'))
const cacheDir = join(work, 'compile-cache')
const baseEnv = {...process.env, SPOOL_HOME: work, SPOOL_CONFIG_HOME: join(work, 'config'), NO_COLOR: '1', NODE_COMPILE_CACHE: cacheDir}
delete baseEnv.SPOOL_BROKER
delete baseEnv.NODE_DISABLE_COMPILE_CACHE

let broker
try {
  if (withKafka) {
    const {startBroker} = await import('../scripts/kafka-broker.mjs')
    broker = await startBroker({log})
  }
  const sections = []
  for (const line of lines) {
    const prefix = execFileSync(join(root, 'scripts', 'node-line.sh'), [line, '--prefix'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']}).trim()
    const node = join(prefix, 'bin', 'node')
    const version = execFileSync(node, ['--version'], {encoding: 'utf8'}).trim()
    log(`Node ${version}`)
    // One spawn, in milliseconds; stdin is a pipe with one line (the produce reads it; others ignore it).
    const spawnMs = (args, env) => {
      const start = process.hrtime.bigint()
      const result = spawnSync(node, args, {env, input: 'x\n', stdio: ['pipe', 'ignore', 'pipe']})
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (result.status !== 0) throw new Error(`${args.join(' ')} on ${version} failed (${result.status}): ${result.stderr}`)
      return ms
    }
    const commands = {
      'node -e 0': ['-e', '0'],
      'spool --version': [bin, '--version'],
      'spool produce (1 record, local)': [bin, 'produce', 'startup'],
      'spool topic list (local)': [bin, 'topic', 'list'],
      ...(broker ? {'spool topic list (Kafka)': [bin, 'topic', 'list', '-b', `kafka://${broker.plaintext}`]} : {}),
    }
    const cached = {...baseEnv}
    const uncached = {...baseEnv, NODE_DISABLE_COMPILE_CACHE: '1'}
    // Warm the OS file cache and fill the compile cache once before timing.
    for (const args of Object.values(commands)) spawnMs(args, cached)
    const times = {}
    for (let round = 0; round < rounds; round++)
      for (const [name, args] of Object.entries(commands))
        for (const [mode, env] of [['cache', cached], ['no cache', uncached]]) (times[`${name}\u0000${mode}`] ??= []).push(spawnMs(args, env))
    const nodeMs = median(times['node -e 0\u0000no cache'])
    const rows = Object.keys(commands).map((name) => {
      const on = median(times[`${name}\u0000cache`])
      const off = median(times[`${name}\u0000no cache`])
      return name === 'node -e 0'
        ? `| ${name} | ${off.toFixed(1)} ms | | |`
        : `| ${name} | ${on.toFixed(1)} ms (+${(on - nodeMs).toFixed(0)} ms) | ${off.toFixed(1)} ms (+${(off - nodeMs).toFixed(0)} ms) | ${(on / off).toFixed(2)} |`
    })
    sections.push(
      [
        `### Node ${version}`,
        '',
        '| command | with compile cache (over node -e 0) | without (over node -e 0) | with / without |',
        '|---|---|---|---|',
        ...rows,
        '',
      ].join('\n'),
    )
  }
  process.stdout.write(
    [`## Start-up on each Node line (median of ${rounds} interleaved rounds)`, '', ...sections].join('\n') + '\n',
  )
} finally {
  await broker?.stop()
  rmSync(work, {recursive: true, force: true})
}
