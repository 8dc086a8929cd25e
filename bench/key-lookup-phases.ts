// Where a read by key's CPU goes, phase by phase, in one process (issue 13). Bundled from the sources, so
// that it sees the store's statements (not reachable from the CLI's bundle):
//
//   npx esbuild bench/key-lookup-phases.ts --bundle --platform=node --format=esm --outfile=bench/.data/phases.mjs \
//     --external:better-sqlite3 '--external:@node-rs/*' \
//     --banner:js="import {createRequire as cr} from 'module'; const require = cr(import.meta.url);"
//   node bench/.data/phases.mjs STORE TOPIC KEY [ROUNDS]
//
// Opens STORE read-only as the CLI does, reads partition 0 of TOPIC with `--key KEY`'s selection ROUNDS
// times (default 3; the first in a fresh process, as a CLI run is; later ones warm), and prints each
// round's CPU (process.cpuUsage: user + system) in all and in the store's statements that a read by key
// runs: the key postings walk, the batch-and-map lookup per batch named, the parts of the batch blob (SQL
// substr), the rest of reading through the record map (checks, decoding, loading the native CRC-32C).
import {LocalBackend} from '../src/backends/local/local-store.js'
import {KeySelection} from '../src/core/key-selection.js'

type Statement = Record<'get' | 'all' | 'iterate', ((...args: unknown[]) => unknown) | undefined>

const cpu = () => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}
const spent = new Map<string, number>()
function timed<T extends object>(target: T, method: keyof T & string, label: string): void {
  const original = target[method] as (...args: unknown[]) => unknown
  ;(target as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
    const start = cpu()
    try {
      return original.apply(this, args)
    } finally {
      spent.set(label, (spent.get(label) ?? 0) + cpu() - start)
    }
  }
}
const timedStatement = (statement: Statement, label: string) => {
  for (const method of ['get', 'all', 'iterate'] as const) if (statement[method]) timed(statement, method, label)
}
/** A factory of statements (one per shape): each statement it makes is timed under `label`, once. */
function timedFactory(owner: Record<string, unknown>, name: string, label: string): void {
  const make = (owner[name] as (arg: unknown) => Statement).bind(owner)
  const seen = new WeakSet<Statement>()
  owner[name] = (arg: unknown) => {
    const statement = make(arg)
    if (!seen.has(statement)) {
      seen.add(statement)
      timedStatement(statement, label)
    }
    return statement
  }
}

const [path, topic, key, rounds = '3'] = process.argv.slice(2)
if (!path || !topic || !key) {
  process.stderr.write('usage: node bench/.data/phases.mjs STORE TOPIC KEY [ROUNDS]\n')
  process.exit(2)
}
const openedAt = cpu()
const backend = new LocalBackend({path, access: 'read'})
const opened = cpu() - openedAt
// The statements live on the backend's private `s`: reached here, for measuring only.
const s = (backend as unknown as {s: {keyIndex?: {postings?: Record<string, unknown>; maps?: Record<string, unknown>}}}).s
const postings = s.keyIndex?.postings
const maps = s.keyIndex?.maps
if (!postings || !maps) throw new Error(`${path} has no key postings (store version 8 or later, written with the key index)`)
timedFactory(postings, 'walk', 'key postings walk (SQL)')
timedStatement(postings.batchHolding as Statement, 'batch and record map per batch named (SQL)')
timedFactory(maps, 'partsOf', 'parts of the batch blob (SQL substr)')
timed(LocalBackend.prototype as unknown as Record<string, unknown>, 'readThroughMap', 'reading through the record map, all')

console.log(`| round | records | CPU of the read | ${['key postings walk (SQL)', 'batch and record map per batch named (SQL)', 'parts of the batch blob (SQL substr)', 'reading through the record map, all'].join(' | ')} |`)
console.log('|---|---|---|---|---|---|---|')
for (let round = 1; round <= Number(rounds); round++) {
  spent.clear()
  const start = cpu()
  let records = 0
  const keys = new KeySelection([Buffer.from(key)])
  for await (const batch of backend.read([{topic, partition: 0, from: 0}], {signal: new AbortController().signal, keys})) records += batch.count
  const total = cpu() - start
  const phase = (label: string) => `${(spent.get(label) ?? 0).toFixed(1)} ms`
  console.log(
    `| ${round === 1 ? '1 (fresh process)' : round} | ${records} | ${total.toFixed(1)} ms | ${phase('key postings walk (SQL)')} | ${phase('batch and record map per batch named (SQL)')} | ${phase('parts of the batch blob (SQL substr)')} | ${phase('reading through the record map, all')} |`,
  )
}
console.log(`\nOpening the store: ${opened.toFixed(1)} ms of CPU (part of every command's start-up).`)
await backend.close()
