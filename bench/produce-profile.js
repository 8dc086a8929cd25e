#!/usr/bin/env node
// Where a local produce's main thread spends its time, from a V8 CPU profile:
//   node --cpu-prof --cpu-prof-interval 500 --cpu-prof-dir DIR bin/run.js produce T -b file:/tmp/x.db < lines
//   node bench/produce-profile.js DIR/CPU.*.cpuprofile   (the main thread's profile: the larger file)
// Each sample goes to the bucket of its innermost frame that names one (the checkpoint thread writes a
// profile of its own, which this does not read).
import {readFileSync} from 'node:fs'

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

/** Checked in this order against each frame, innermost first. */
const buckets = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['idle: waiting (the disk, the checkpoint thread)', (f) => f.functionName === '(idle)'],
  ['start-up (module loading)', (f) => /^node:internal\/modules\//.test(f.url)],
  ['encode batch + CRC-32C', (f) => /^(encodeBatch|encodePacked|crc32c|timestampBounds)$/.test(f.functionName)],
  ['close: the last checkpoint', (f) => f.functionName === 'close' && /local-store|better-sqlite3|wrappers/.test(f.url)],
  ['SQLite append: insert, commit', (f) => /^(sqliteTransaction|append|checkpointAfter|writing)$/.test(f.functionName) && !/produce/.test(f.url)],
  ['read + split + copy lines', (f) => /^(push|addPacked|onPackedLine|emitCarry|readUntilAborted|nextUnlessAborted|read)$/.test(f.functionName) || /reused-chunks/.test(f.url)],
]
const totals = new Map(buckets.map(([name]) => [name, 0]))
let other = 0
let all = 0
for (let i = 0; i < profile.samples.length; i++) {
  const ms = (profile.timeDeltas[i] ?? 0) / 1000
  all += ms
  let bucket
  for (let n = byId.get(profile.samples[i]); n && !bucket; n = byId.get(parent.get(n.id)))
    bucket = buckets.find(([, test]) => test(n.callFrame))?.[0]
  if (bucket) totals.set(bucket, totals.get(bucket) + ms)
  else other += ms
}
for (const [name, ms] of totals) console.log(`${ms.toFixed(0).padStart(6)} ms ${((100 * ms) / all).toFixed(0).padStart(3)}%  ${name}`)
console.log(`${other.toFixed(0).padStart(6)} ms ${((100 * other) / all).toFixed(0).padStart(3)}%  other`)
console.log(`${all.toFixed(0).padStart(6)} ms        total (wall of the profiled run)`)
