#!/usr/bin/env node
// spool's benchmarks: `npm run bench` (builds first). Measures the local store on 1M 100-byte lines:
// produce and consume throughput through real pipes, start-up against `node -e 0`, tail latency, and
// peak RSS. Prints a Markdown report on stdout; docs/BENCHMARKS.md records the figures and how to rerun.
// Options (environment): BENCH_RECORDS (default 1000000), BENCH_RUNS (default 3), BENCH_TAIL_SAMPLES (default 400),
// BENCH_BIG_COPIES (default 10: the memory test reads a topic of that many copies of the input),
// BENCH_REPLAY_SECONDS (default 60: the length of the capture replayed at speed 1).
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {dataFile} from './data-file.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const records = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const tailSamples = Number(process.env.BENCH_TAIL_SAMPLES ?? 400)
const bigCopies = Number(process.env.BENCH_BIG_COPIES ?? 10)
const replaySeconds = Number(process.env.BENCH_REPLAY_SECONDS ?? 60)
const work = mkdtempSync(join(tmpdir(), 'spool-bench-'))
const env = {...process.env, SPOOL_HOME: work, NO_COLOR: '1'}
delete env.SPOOL_BROKER

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]
const sh = (script) => spawnSync('bash', ['-c', script], {env, encoding: 'utf8', maxBuffer: 1 << 26})
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const log = (line) => process.stderr.write(`bench: ${line}\n`)

/** 1M lines of exactly 100 bytes (plus newline), generated once and kept in bench/.data. */
function linesFile() {
  const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3)
  return dataFile(`lines-${records}.txt`, records, (i) => `${i}:${pad.slice(0, 100 - `${i}:`.length)}`, log)
}

/** Wall time of a shell pipeline, in seconds. */
function timed(script) {
  const start = process.hrtime.bigint()
  const result = sh(script)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr}`)
  return {seconds, stdout: result.stdout}
}

/**
 * Wall time, CPU time (user + system of every process of the pipeline) and the largest peak RSS among
 * them, from the kernel (getrusage of the children); stdout as `timed` gives it.
 */
function measured(script) {
  const py = `import resource,subprocess,sys,time,json\nt=time.time()\nr=subprocess.run(['bash','-c',sys.argv[1]],check=True,capture_output=True)\nw=time.time()-t\nu=resource.getrusage(resource.RUSAGE_CHILDREN)\nprint(json.dumps({'seconds':w,'cpu':u.ru_utime+u.ru_stime,'rss':u.ru_maxrss/1024,'stdout':r.stdout.decode()}))`
  return JSON.parse(execFileSync('python3', ['-c', py, script], {env, encoding: 'utf8', maxBuffer: 1 << 26}))
}

/** Peak RSS in MiB of one command, measured by the kernel (getrusage of the child). */
function peakRss(script) {
  const py = `import resource,subprocess,sys\nsubprocess.run(['bash','-c',sys.argv[1]],check=True)\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)`
  const out = execFileSync('python3', ['-c', py, script], {env, encoding: 'utf8'})
  return Number(out.trim()) / 1024
}

function startupTimes() {
  const hasHyperfine = sh('command -v hyperfine').status === 0
  const commands = {
    'node -e 0': 'node -e 0',
    'spool --version': `node ${bin} --version`,
    'spool produce (1 record)': `echo x | node ${bin} produce startup`,
    'spool consume (1 record)': `node ${bin} consume startup -c 1`,
    'spool topic list': `node ${bin} topic list`,
    'spool group list': `node ${bin} group list`,
    'spool top --once': `node ${bin} top --once`,
    'spool __complete consume (a topic name for the shell)': `node ${bin} __complete consume s`,
    'spool consume --help': `node ${bin} consume --help`,
  }
  sh(`echo x | node ${bin} produce startup`)
  const results = {}
  for (const [name, command] of Object.entries(commands)) {
    if (hasHyperfine) {
      const file = join(work, 'hyperfine.json')
      const run = sh(`hyperfine -N --warmup 3 --runs 20 --export-json ${file} '${command.includes('|') ? `bash -c "${command}"` : command}' > /dev/null 2>&1; cat ${file}`)
      results[name] = JSON.parse(run.stdout).results[0].median * 1000
    } else {
      const times = []
      for (let i = 0; i < 20; i++) times.push(timed(command).seconds * 1000)
      results[name] = median(times)
    }
  }
  // A pipeline under hyperfine also pays for bash: measure that and take it off.
  if (hasHyperfine) {
    const file = join(work, 'hyperfine.json')
    const run = sh(`hyperfine -N --warmup 3 --runs 20 --export-json ${file} 'bash -c "echo x | node -e 0"' > /dev/null 2>&1; cat ${file}`)
    const piped = JSON.parse(run.stdout).results[0].median * 1000
    results['spool produce (1 record)'] -= piped - results['node -e 0']
  }
  return {tool: hasHyperfine ? 'hyperfine -N, median of 20' : 'median of 20 spawns', results}
}

/** Latency from a line written to a producer's stdin to the same line printed by a tailing process. */
async function tailLatency() {
  sh(`node ${bin} topic create latency`)
  const tail = spawn(process.execPath, [bin, 'tail', 'latency', '-n', '0'], {env, stdio: ['ignore', 'pipe', 'inherit']})
  const producer = spawn(process.execPath, [bin, 'produce', 'latency'], {env, stdio: ['pipe', 'ignore', 'inherit']})
  const now = () => performance.timeOrigin + performance.now()
  const latencies = []
  let pending = ''
  let resolveSeen
  tail.stdout.on('data', (d) => {
    pending += d.toString()
    let at
    while ((at = pending.indexOf('\n')) >= 0) {
      const sent = Number(pending.slice(0, at))
      pending = pending.slice(at + 1)
      if (sent > 0) {
        latencies.push(now() - sent)
        resolveSeen?.()
      }
    }
  })
  // The follower is ready once it prints a probe record.
  await new Promise((resolve) => {
    resolveSeen = resolve
    const probe = setInterval(() => producer.stdin.write(`${now()}\n`), 200)
    tail.stdout.once('data', () => clearInterval(probe))
  })
  latencies.length = 0
  for (let i = 0; i < tailSamples; i++) {
    const seen = new Promise((resolve) => (resolveSeen = resolve))
    producer.stdin.write(`${now()}\n`)
    await Promise.race([seen, new Promise((r) => setTimeout(r, 2000))])
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 10))
  }
  producer.stdin.end()
  await new Promise((r) => producer.on('close', r))
  tail.kill('SIGINT')
  await new Promise((r) => tail.on('close', r))
  return {samples: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies)}
}

/** Replays a capture of known, irregular gaps and times each line's arrival against its schedule. */
async function replayTiming(speed) {
  const topic = `replay-${String(speed).replace('.', '_')}`
  const count = Math.round(replaySeconds * 10)
  // Gaps of 0-200 ms (mean 100), scaled so the capture spans exactly replaySeconds.
  let seed = 42
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  const gaps = Array.from({length: count - 1}, () => random() * 200)
  const scale = (replaySeconds * 1000) / gaps.reduce((a, b) => a + b, 0)
  const base = Date.now() - 3_600_000
  const stamps = [base]
  for (const gap of gaps) stamps.push(stamps.at(-1) + Math.round(gap * scale))
  sh(`node ${bin} produce ${topic} --input json 2>/dev/null <<'EOF'\n${stamps.map((ts, i) => JSON.stringify({value: String(i), timestamp: ts})).join('\n')}\nEOF`)
  const child = spawn(process.execPath, [bin, 'replay', topic, '--speed', String(speed)], {env, stdio: ['ignore', 'pipe', 'inherit']})
  const arrivals = []
  let pending = ''
  child.stdout.on('data', (d) => {
    const now = performance.now()
    pending += d.toString()
    let at
    while ((at = pending.indexOf('\n')) >= 0) {
      arrivals[Number(pending.slice(0, at))] = now
      pending = pending.slice(at + 1)
    }
  })
  await new Promise((r) => child.on('close', r))
  const scheduled = (stamps.at(-1) - stamps[0]) / speed
  const elapsed = arrivals.at(-1) - arrivals[0]
  const errors = stamps.map((ts, i) => Math.abs(arrivals[i] - arrivals[0] - (ts - stamps[0]) / speed))
  return {speed, records: count, scheduled, elapsed, errorPercent: ((elapsed - scheduled) / scheduled) * 100, p50: quantile(errors, 0.5), p99: quantile(errors, 0.99), max: Math.max(...errors)}
}

async function main() {
  execFileSync('npm', ['run', 'build'], {cwd: root, stdio: ['ignore', 'ignore', 'inherit']})
  const lines = await linesFile()
  const mb = (records * 101) / 1e6
  log(`work dir ${work}; ${fmt(records)} records, ${runs} runs each`)

  const produce = []
  const produceFile = []
  const readSplit = []
  const freshStore = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(work, `spool.db${suffix}`), {force: true})
  }
  // Interleaved: produce from a pipe, from the file (stdin redirected, as `spool produce T < file`), and
  // Node reading and splitting the same file with nothing else (bench/read-split.js): the floor.
  for (let i = 0; i < runs; i++) {
    freshStore()
    produce.push(timed(`cat ${lines} | node ${bin} produce bench 2>/dev/null`).seconds)
    freshStore()
    produceFile.push(timed(`node ${bin} produce bench < ${lines} 2>/dev/null`).seconds)
    readSplit.push(timed(`node ${join(root, 'bench', 'read-split.js')} < ${lines} > /dev/null`).seconds)
    log(`produce run ${i + 1}: pipe ${produce.at(-1).toFixed(2)} s, file ${produceFile.at(-1).toFixed(2)} s, read-and-split ${readSplit.at(-1).toFixed(2)} s`)
  }
  // Interleaved (default, --json, default...), so that a busy spell of the machine falls on both.
  const consume = []
  const consumeCpu = []
  const json = []
  const jsonCpu = []
  for (let i = 0; i < runs; i++) {
    for (const [flags, times, cpu] of [['', consume, consumeCpu], [' --json', json, jsonCpu]]) {
      const run = measured(`node ${bin} consume bench${flags} | wc -l`)
      if (Number(run.stdout.trim()) !== records) throw new Error(`consume${flags} printed ${run.stdout.trim()} lines, not ${records}`)
      times.push(run.seconds)
      cpu.push(run.cpu)
      log(`consume${flags} run ${i + 1}: ${run.seconds.toFixed(2)} s, CPU ${run.cpu.toFixed(2)} s`)
    }
  }
  const identical = sh(`node ${bin} consume bench | cmp -s - ${lines}`).status === 0
  const produceRss = peakRss(`node ${bin} produce rss < ${lines} 2>/dev/null`)
  const consumeRss = peakRss(`node ${bin} consume bench > /dev/null`)
  // The memory budget is about topic size: a topic ten times larger must not need more memory to read.
  log(`big topic: ${bigCopies} copies of the input`)
  sh(`for i in $(seq ${bigCopies}); do cat ${lines}; done | node ${bin} produce big 2>/dev/null`)
  const bigBytes = statSync(join(work, 'spool.db')).size
  const bigRss = peakRss(`node ${bin} consume big > /dev/null`)
  const jsonRss = peakRss(`node ${bin} consume bench --json > /dev/null`)
  const bigJsonRss = peakRss(`node ${bin} consume big --json > /dev/null`)
  log('start-up')
  const startup = startupTimes()
  log('tail latency')
  const tail = await tailLatency()
  log('pipe')
  const pipePlain = timed(`node ${bin} pipe bench bench-copy 2>/dev/null`).seconds
  const pipeGroup = timed(`node ${bin} pipe bench bench-copy-g -g bench 2>/dev/null`).seconds
  const pipeIdentical = sh(`cmp -s <(node ${bin} consume bench-copy-g) ${lines}`).status === 0
  log(`replay at speed 1 (${replaySeconds} s) and 10`)
  const replays = [await replayTiming(1), await replayTiming(10)]
  const replayMax = timed(`node ${bin} replay bench --speed max | wc -l`).seconds

  const node = startup.results['node -e 0']
  const report = [
    `## Local store, ${fmt(records)} × 100-byte lines (${mb.toFixed(0)} MB), median of ${runs} runs`,
    '',
    '| measure | result |',
    '|---|---|',
    `| produce from a pipe | ${median(produce).toFixed(2)} s = **${fmt(records / median(produce))} records/s** (${(mb / median(produce)).toFixed(0)} MB/s), start-up included |`,
    `| produce from the file (\`< lines\`) | ${median(produceFile).toFixed(2)} s = **${fmt(records / median(produceFile))} records/s**; ${(median(produceFile) / median(readSplit)).toFixed(2)}x Node's own read-and-split of the file (${median(readSplit).toFixed(2)} s, bench/read-split.js) |`,
    `| consume to a pipe (default output) | ${median(consume).toFixed(2)} s = **${fmt(records / median(consume))} records/s**, start-up included; CPU (user + sys, with wc) ${median(consumeCpu).toFixed(2)} s |`,
    `| consume --json to a pipe | ${median(json).toFixed(2)} s = **${fmt(records / median(json))} records/s**, start-up included; CPU ${median(jsonCpu).toFixed(2)} s |`,
    `| consume output identical to the input | ${identical ? 'yes' : '**NO**'} |`,
    `| peak RSS, produce / consume | ${produceRss.toFixed(0)} MiB / ${consumeRss.toFixed(0)} MiB |`,
    `| peak RSS, consume --json | ${jsonRss.toFixed(0)} MiB |`,
    `| peak RSS, consume / consume --json of a ${fmt(records * bigCopies)}-record topic (store file ${(bigBytes / 1e9).toFixed(2)} GB) | ${bigRss.toFixed(0)} MiB / ${bigJsonRss.toFixed(0)} MiB |`,
    `| tail latency (write to producer's stdin -> printed by a tail -f), ${tail.samples} samples | p50 ${tail.p50.toFixed(1)} ms, p99 ${tail.p99.toFixed(1)} ms, max ${tail.max.toFixed(1)} ms |`,
    '',
    `### Pipe and replay`,
    '',
    '| measure | result |',
    '|---|---|',
    `| pipe bench -> bench-copy (local to local, no group) | ${pipePlain.toFixed(2)} s = **${fmt(records / pipePlain)} records/s**, start-up included |`,
    `| pipe with -g (exactly-once: records and offsets in one transaction per batch) | ${pipeGroup.toFixed(2)} s = **${fmt(records / pipeGroup)} records/s**; copy identical: ${pipeIdentical ? 'yes' : '**NO**'} |`,
    `| replay --speed max to a pipe | ${replayMax.toFixed(2)} s = ${fmt(records / replayMax)} records/s (consume: ${fmt(records / median(consume))} records/s) |`,
    ...replays.map(
      (r) =>
        `| replay --speed ${r.speed} of a ${replaySeconds} s capture (${r.records} records, gaps 0-200 ms) | took ${(r.elapsed / 1000).toFixed(3)} s for ${(r.scheduled / 1000).toFixed(3)} s scheduled (**${r.errorPercent >= 0 ? '+' : ''}${r.errorPercent.toFixed(3)}%**); each record vs its schedule: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(2)} ms |`,
    ),
    '',
    `### Start-up (${startup.tool})`,
    '',
    '| command | time | vs node -e 0 |',
    '|---|---|---|',
    ...Object.entries(startup.results).map(([name, ms]) => `| ${name} | ${ms.toFixed(1)} ms | ${(ms / node).toFixed(2)}x |`),
    '',
  ].join('\n')
  process.stdout.write(`${report}\n`)
  rmSync(work, {recursive: true, force: true})
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`)
  rmSync(work, {recursive: true, force: true})
  process.exit(1)
})
