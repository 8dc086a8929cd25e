#!/usr/bin/env node
// Where a command's start-up goes, from V8 CPU profiles of several runs:
//   for i in 1 2 3 4 5 6 7; do node --cpu-prof --cpu-prof-interval 100 --cpu-prof-dir=DIR bin/run.js topic list >/dev/null; done
//   node bench/startup-phases.js DIR/*.cpuprofile
// Each sample counts once, for the first phase below (in this order) that a frame of its stack matches;
// the figure per phase is the median over the profiles (so the rows need not add up to the total).
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
const phases = [
  ['local store: open file (better-sqlite3 binding, open, pragmas)', /^openStoreFile /],
  ['local store: prepare statements', /^prepareStatements /],
  ['local store: other construction', /^_LocalBackend /],
  // A frame in oclif's parser gets its module's path (see moduleAt): the bundle's line numbers change with every build.
  ['command: oclif parse (flags, args)', /^parse .*@oclif\/core\/lib\/parser\//],
  ['command run (list, print)', /^run commands\//],
  ['builtins compiled on first require (tty, net, stream...)', /^compileForInternalLoader /],
  ['ES module resolve', /^defaultResolve /],
  ['ES module read + compile (code cache)', /^(defaultLoadSync|compileSourceTextModule|loadAndTranslate) /],
  ['ES module evaluate (chunks top-level, incl. better-sqlite3 JS)', /^evaluate /],
  ['fast path and the rest of oclif\'s Command lifecycle (package.json, manifest, init)', /^(fastStart|runFast) /],
  ['garbage collector', /^\(garbage collector\)/],
  ['Kafka client at run time (requests, responses, connection)', /chunks\/kafka-backend/],
  ['waiting (idle: the network, the broker)', /^\(idle\)/],
]
/** The bundled module a line of a bundle file belongs to, from the path esbuild writes above each (`// path`, `//! path` in merged modules). */
const starts = new Map()
function moduleAt(url, line) {
  if (!starts.has(url)) {
    let lines = []
    try {
      lines = readFileSync(fileURLToPath(url), 'utf8').split('\n')
    } catch {}
    starts.set(url, lines.flatMap((text, i) => (/^\/\/!? \S+$/.test(text) ? [[i, text.replace(/^\/\/!? /, '')]] : [])))
  }
  return starts.get(url).findLast(([start]) => start <= line)?.[1]
}
const files = process.argv.slice(2)
const per = []
for (const f of files) {
  const p = JSON.parse(readFileSync(f, 'utf8'))
  const byId = new Map(p.nodes.map((n) => [n.id, n])), parent = new Map()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const name = (n) => {
    const {functionName, url, lineNumber} = n.callFrame
    const module = url.includes('/dist/bundle/') ? moduleAt(url, lineNumber) : undefined
    return `${functionName || '(anon)'} ${url.replace(/.*\/dist\/bundle\//, '')}:${lineNumber}${module ? ` ${module}` : ''}`
  }
  const m = {TOTAL: 0, other: 0}
  for (let i = 0; i < p.samples.length; i++) {
    const d = (p.timeDeltas[i] ?? 0) / 1000; m.TOTAL += d
    const stack = []; let id = p.samples[i]; while (id !== undefined) { stack.push(name(byId.get(id))); id = parent.get(id) }
    const hit = phases.find(([, re]) => stack.some((s) => re.test(s)))
    const key = hit ? hit[0] : stack.some((s) => s.startsWith('(program)')) ? '(program: V8/Node outside JS)' : 'other'
    m[key] = (m[key] ?? 0) + d
  }
  per.push(m)
}
const keys = [...new Set(per.flatMap((m) => Object.keys(m)))]
const med = (xs) => { xs.sort((a, b) => a - b); return xs[Math.floor(xs.length / 2)] }
for (const k of keys) console.log(med(per.map((m) => m[k] ?? 0)).toFixed(1).padStart(7), k)
