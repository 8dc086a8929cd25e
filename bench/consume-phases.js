#!/usr/bin/env node
// The read path of a local consume, net of the CLI's start-up, split into its phases:
//   node bench/consume-phases.js STORE TOPIC [--json] [--src TREE] | wc -l
// It bundles TREE's src/ (this tree by default; another checkout to compare, e.g. a copy of main) with
// esbuild, opens STORE read-only and streams TOPIC from its start to stdout as `spool consume` does
// (LocalBackend.read, ValueWriter or JsonWriter, BufferedOutput on process.stdout, one batch at a time).
// On stderr: wall time of the whole read; the CPU time (user + system, this process) of fetching and
// checking batches (`read`), of formatting them into the output and writing full chunks (`format`),
// and of flushing each batch (`flush`); the CPU time of the whole read; peak RSS.
import {build} from 'esbuild'
import {mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const args = process.argv.slice(2)
const json = args.includes('--json')
const srcAt = args.indexOf('--src')
const tree = resolve(srcAt >= 0 ? args[srcAt + 1] : fileURLToPath(new URL('..', import.meta.url)))
const [store, topic] = args.filter((a, i) => !a.startsWith('--') && (srcAt < 0 || i !== srcAt + 1))
if (!store || !topic) {
  process.stderr.write('usage: node bench/consume-phases.js STORE TOPIC [--json] [--src TREE] | wc -l\n')
  process.exit(2)
}

const entry = `
import {LocalBackend} from ${JSON.stringify(join(tree, 'src/backends/local/local-store.ts'))}
import {BufferedOutput} from ${JSON.stringify(join(tree, 'src/io/output.ts'))}
import {JsonWriter, ValueWriter} from ${JSON.stringify(join(tree, 'src/io/record-writers.ts'))}
import {planRead} from ${JSON.stringify(join(tree, 'src/ops/consume.ts'))}
export {LocalBackend, BufferedOutput, JsonWriter, ValueWriter, planRead}
`
const dir = mkdtempSync(join(tmpdir(), 'spool-consume-phases-'))
const outfile = join(dir, 'read-path.mjs')
try {
  writeFileSync(join(dir, 'entry.ts'), entry)
  await build({entryPoints: [join(dir, 'entry.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'warning'})
  // The packages (better-sqlite3, @node-rs/crc32) stay external: the tree's own node_modules resolve them.
  symlinkSync(join(tree, 'node_modules'), join(dir, 'node_modules'))
  const {LocalBackend, BufferedOutput, JsonWriter, ValueWriter, planRead} = await import(pathToFileURL(outfile).href)

  const cpu = () => {
    const used = process.cpuUsage()
    return (used.user + used.system) / 1000
  }
  const backend = new LocalBackend({path: resolve(store), access: 'read'})
  const assignments = await planRead(backend, {topics: [topic], from: {kind: 'earliest'}, follow: false})
  const out = new BufferedOutput(process.stdout)
  const writer = json ? new JsonWriter() : new ValueWriter()
  const spent = {read: 0, format: 0, flush: 0}
  const cpuStart = cpu()
  const wallStart = performance.now()
  const batches = backend.read(assignments, {signal: new AbortController().signal})[Symbol.asyncIterator]()
  let previous
  let records = 0
  for (;;) {
    let at = cpu()
    const next = await batches.next()
    spent.read += cpu() - at
    if (next.done) break
    at = cpu()
    writer.write(next.value, 0, next.value.count, out)
    spent.format += cpu() - at
    records += next.value.count
    // As streamRecords: a batch is freed once the next one has been read.
    previous?.release?.()
    previous = next.value
    at = cpu()
    await out.flush()
    spent.flush += cpu() - at
  }
  await out.end()
  const wall = performance.now() - wallStart
  const total = cpu() - cpuStart
  process.stderr.write(
    `${records} records: wall ${wall.toFixed(0)} ms; CPU read ${spent.read.toFixed(0)}, format ${spent.format.toFixed(0)}, flush ${spent.flush.toFixed(0)}, all ${total.toFixed(0)} ms; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
  )
  await backend.close()
} finally {
  rmSync(dir, {recursive: true, force: true})
}
