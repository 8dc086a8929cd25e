#!/usr/bin/env node
// Where a command's CPU time goes, from a V8 profile (node --cpu-prof --cpu-prof-dir=DIR ...):
//   node bench/cpu-profile-summary.js DIR/CPU.*.cpuprofile
// Prints the self time per package (node_modules/<name>, the bundle's chunks, Node's internals) and the
// inclusive time of a few spans that matter for start-up: Ajv compiling validators (new Function included),
// and everything under the Kafka client's modules.
import {readFileSync} from 'node:fs'

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const self = new Map()
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)

function where(frame) {
  const url = frame.callFrame.url
  if (!url) return frame.callFrame.functionName ? `(native) ${frame.callFrame.functionName}` : '(program/gc/idle)'
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1]
  if (url.includes('/dist/bundle/')) return `bundle ${url.replace(/.*\/dist\/bundle\//, '').replace(/-[A-Z0-9]{8}\.js$/, '.js')}`
  if (url.startsWith('node:')) return 'node internals'
  return url
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const perPackage = new Map()
for (const [id, ms] of self) perPackage.set(where(byId.get(id)), (perPackage.get(where(byId.get(id))) ?? 0) + ms)

// Inclusive spans: a sample counts once for a span when any frame of its stack matches.
const spans = {
  'Ajv compile (validators built at load or first use)': (f) => /node_modules\/ajv\//.test(f.callFrame.url) && /^(compile|_compile|compileSchema)$/.test(f.callFrame.functionName),
  'under @platformatic/kafka frames (unbundled) or the kafka-backend chunk (bundled)': (f) =>
    f.callFrame.url.includes('node_modules/@platformatic/kafka/') || /\/chunks\/kafka-backend-[^/]*\.js$/.test(f.callFrame.url),
  'module loading (ESM link/evaluate, CJS require)': (f) => /^node:internal\/modules\//.test(f.callFrame.url),
}
const spanMs = Object.fromEntries(Object.keys(spans).map((k) => [k, 0]))
for (const [id, ms] of self) {
  const seen = new Set()
  for (let n = byId.get(id); n; n = byId.get(parent.get(n.id))) for (const [name, test] of Object.entries(spans)) if (!seen.has(name) && test(n)) seen.add(name)
  for (const name of seen) spanMs[name] += ms
}
const duration = (profile.endTime - profile.startTime) / 1000
console.log(`profile: ${duration.toFixed(0)} ms from start to end; ${total.toFixed(0)} ms sampled`)
console.log('\nself time by where the code lives:')
for (const [name, ms] of [...perPackage].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${name}`)
const perFunction = new Map()
for (const [id, ms] of self) {
  const f = byId.get(id).callFrame
  const key = `${f.functionName || '(top level)'} ${f.url.replace(/.*\/(node_modules|dist\/bundle)\//, '')}:${f.lineNumber + 1}`
  perFunction.set(key, (perFunction.get(key) ?? 0) + ms)
}
console.log('\nself time by function:')
for (const [name, ms] of [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${name}`)
console.log('\ninclusive:')
for (const [name, ms] of Object.entries(spanMs)) console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${name}`)
