// Bundles the CLI into dist/bundle with esbuild: one shared chunk of @oclif/core instead of ~150 small
// CommonJS modules cuts start-up by about a third. Each command stays its own entry so oclif's manifest
// loads only the command that runs; drivers load on demand (native addons stay external; the Kafka client is bundled
// into the Kafka backend's chunk, see kafkaClient below). The chunks the commands share are then merged into
// two modules (mergeCommonChunks below), so that a command loads 4-5 files of the bundle instead of 25-30.
import {build} from 'esbuild'
import {createHash} from 'node:crypto'
import {readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {builtinModules} from 'node:module'
import {basename, dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const walk = (dir) =>
  readdirSync(join(root, dir), {withFileTypes: true}).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )

// @oclif/core is compiled TypeScript: every module requires all of its imports at the top, so importing
// Command or Flags runs about 160 modules (semver, tinyglobby, ejs, the help renderer, ...) whether the
// command needs them or not. This rewrites those top-level requires into memoized thunks: a module
// runs the first time one of its exports is used. Only a binding that the file uses exclusively as
// `name.property` is rewritten (each use becomes `name().property`), so what the code does is unchanged;
// only when a dependency's module body runs moves. Builtins too: node:readline (the parser's stdin
// reading) alone loads a dozen of Node's internal modules that are not in its startup snapshot.
// oclif's `debug` (its logger) becomes scripts/debug-off.cjs when DEBUG is not set: the real module
// reads the terminal's colour support at load, for output that only DEBUG switches on.
const lazyOclifRequires = {
  name: 'lazy-oclif-requires',
  setup(build) {
    build.onLoad({filter: /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/].*\.js$/}, (args) => ({
      contents: lazyRequires(readFileSync(args.path, 'utf8').replace('require("debug")', `require(${JSON.stringify(join(root, 'scripts', 'debug-off.cjs'))})`)),
      loader: 'js',
      resolveDir: dirname(args.path),
    }))
  },
}

function lazyRequires(source) {
  let lazy = 0
  const declaration = /^(const|var) ([\w$]+) = ((?:__importDefault|__importStar)\()?require\("([^"]+)"\)\)?;$/gm
  let out = source.replace(declaration, (line, _kind, name, wrapper, specifier) => {
    const uses = [...source.matchAll(new RegExp(`(new\\s+)?(?<![\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$])(.?)`, 'g'))]
    // The declaration itself, then only member accesses (and none after `new`, where name() would bind wrongly).
    if (uses.length < 2 || uses.slice(1).some((m) => m[2] !== '.' || m[1])) return line
    lazy++
    const load = wrapper ? `${wrapper}require("${specifier}"))` : `require("${specifier}")`
    return `const ${name} = __spoolLazy(() => ${load});`
  })
  // index.js: `exports.Flags = __importStar(require("./flags"));` becomes a getter.
  out = out.replace(/^exports\.([\w$]+) = (__importStar\(require\("[^"]+"\)\));$/gm, (_line, name, load) => {
    lazy++
    return `{ const load = __spoolLazy(() => ${load}); Object.defineProperty(exports, "${name}", { enumerable: true, configurable: true, get: load }); }`
  })
  if (lazy === 0) return source
  for (const name of [...out.matchAll(/^const ([\w$]+) = __spoolLazy\(/gm)].map((m) => m[1]))
    out = out.replace(new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}\\.`, 'g'), `${name}().`)
  const helper = 'function __spoolLazy(load) { let done = false, value; return () => (done ? value : ((value = load()), (done = true), value)); }\n'
  return out.startsWith('"use strict";\n') ? `"use strict";\n${helper}${out.slice(14)}` : helper + out
}

// better-sqlite3's JavaScript (a dozen small CommonJS files, about 5 ms to resolve and load one by one)
// is bundled; its native addon is not. The addon is found relative to the package's lib directory
// (build/ or prebuilds/), so binding.js's __dirname becomes that directory, resolved where spool runs.
const sqliteBinding = {
  name: 'better-sqlite3-binding',
  setup(build) {
    build.onLoad({filter: /[\\/]node_modules[\\/]better-sqlite3[\\/]lib[\\/]binding\.js$/}, (args) => {
      const source = readFileSync(args.path, 'utf8')
      if (!source.includes('__dirname')) throw new Error(`${args.path}: no __dirname to replace; check scripts/bundle.js`)
      return {
        contents: source.replaceAll('__dirname', "require('path').dirname(require.resolve('better-sqlite3'))"),
        loader: 'js',
        resolveDir: dirname(args.path),
      }
    })
  },
}

// @platformatic/kafka is bundled into the Kafka backend's chunk (loaded only when an address names Kafka),
// which takes a Kafka command's start-up from about 1.2 s of CPU to about 0.2 s (docs/BENCHMARKS.md):
// - Its files are marked free of side effects, so esbuild keeps only the modules spool reaches (the
//   admin client, the connection pool, the protocol APIs) and drops the consumer, the producer and the
//   schema registries, with what they import (avsc, protobufjs, a second Ajv).
// - Its Ajv instance becomes scripts/lazy-ajv.js: the ~45 option validators it compiled at load (about
//   300 ms) compile when first called, which spool never does (see there), and Ajv loads only then.
// - What it loaded or built at load for features a command may not use happens on first use: the
//   promise form of each protocol API, node:tls (TLS listeners), node:zlib (gzip, zstd), node:crypto
//   (SCRAM), its WebAssembly helpers (snappy, lz4; an ES module, required as Node 22.12+ allows) and the
//   native CRC-32C addon (for the client's own record codec, which record-batch.ts replaces). Each was
//   about 10-30 ms of every Kafka command.
// - Its `debug` becomes scripts/debug-off.cjs when DEBUG is not set, as oclif's does.
// Each rewrite must find the exact text it replaces, so a client upgrade that moves it fails the build
// rather than quietly bringing the load-time cost back; checkKafkaChunk (below) and
// test/e2e/startup-modules.test.ts check the result.
const kafkaClientDir = /[\\/]node_modules[\\/]@platformatic[\\/]kafka[\\/]dist[\\/]/
/** A stand-in for a function of a module (a builtin, the WebAssembly helpers) that requires the module on its first call. */
const onFirstCall = (specifier, name) => `(...args) => require(${JSON.stringify(specifier)}).${name}(...args)`
/**
 * The protocol APIs spool's admin calls reach, by the name the client looks them up with (kGetApi):
 * Metadata; topics (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, IncrementalAlterConfigs,
 * AlterConfigs, ListOffsets, DescribeLogDirs, DeleteRecords); groups (ListGroups, DescribeGroups,
 * FindCoordinator, OffsetFetch, OffsetCommit, OffsetDelete, DeleteGroups, LeaveGroup). Produce, Fetch and
 * InitProducerId spool sends itself (src/backends/kafka/wire.ts); ApiVersions and SASL the connection
 * imports by name. Every version of each is kept: the client picks the highest the broker supports.
 */
const kafkaApisUsed = new Set(['Metadata', 'CreateTopics', 'DeleteTopics', 'CreatePartitions', 'DescribeConfigs', 'IncrementalAlterConfigs', 'AlterConfigs', 'ListOffsets', 'DescribeLogDirs', 'DeleteRecords', 'ListGroups', 'DescribeGroups', 'FindCoordinator', 'OffsetFetch', 'OffsetCommit', 'OffsetDelete', 'DeleteGroups', 'LeaveGroup'])

/**
 * The client's base class looks each protocol API up by name in a namespace of all ~260 (`apis[name]`),
 * which kept every one in the chunk: 0.44 MB of its 0.73 MB, compiled and run by every Kafka command. The
 * namespace becomes an object of the versions of kafkaApisUsed, imported by name, so the rest is dropped.
 * An API spool starts to use must be added there: without it the client answers "No usable
 * implementation found for API ...", which the Kafka tests of that command show.
 */
function kafkaApisNamespace() {
  const apisDir = join(root, 'node_modules', '@platformatic', 'kafka', 'dist', 'apis')
  const names = ['admin', 'consumer', 'metadata', 'producer', 'security', 'telemetry'].flatMap((group) =>
    [...readFileSync(join(apisDir, group, 'index.js'), 'utf8').matchAll(/^export \* as (([a-z]\w*)V\d+) from /gm)]
      .filter((m) => kafkaApisUsed.has(m[2][0].toUpperCase() + m[2].slice(1)))
      .map((m) => m[1]),
  )
  const found = new Set(names.map((name) => name.replace(/V\d+$/, '')).map((name) => name[0].toUpperCase() + name.slice(1)))
  const missing = [...kafkaApisUsed].filter((name) => !found.has(name))
  if (missing.length > 0) throw new Error(`the Kafka client has no protocol API ${missing.join(', ')}; see kafkaApisUsed in scripts/bundle.js`)
  return `import { ${names.join(', ')} } from "../../apis/index.js";\nconst apis = { ${names.join(', ')} };`
}

const kafkaClientRewrites = {
  'clients/base/base.js': [[/^import \* as apis from "\.\.\/\.\.\/apis\/index\.js";$/m, kafkaApisNamespace()]],
  'utils.js': [
    [/^import \{ Ajv2020 \} from 'ajv\/dist\/2020\.js';$/m, `import { lazyAjv as __spoolLazyAjv } from ${JSON.stringify(join(root, 'scripts', 'lazy-ajv.js'))};`],
    [/^export const ajv = new Ajv2020\((\{[^\n]*\})\);$/m, 'export const ajv = __spoolLazyAjv(() => new (require("ajv/dist/2020.js").Ajv2020)($1));'],
    [/^import debug from 'debug';$/m, `import debug from ${JSON.stringify(join(root, 'scripts', 'debug-off.cjs'))};`],
  ],
  // The same function, chosen (native addon, else WebAssembly) on its first call instead of at load.
  'protocol/crc32c.js': [
    [/^import \{ crc32c as wasmCRC32C \} from '@platformatic\/wasm-utils';$/m, `const wasmCRC32C = ${onFirstCall('@platformatic/wasm-utils', 'crc32c')};`],
    [/^export const crc32c = loadNativeCRC32C\(\) \?\? wasmCRC32C;$/m, 'let __spoolCrc32c;\nexport function crc32c(data) { return (__spoolCrc32c ??= loadNativeCRC32C() ?? wasmCRC32C)(data); }'],
  ],
  // Each of the ~260 protocol APIs (all bundled: the admin client picks them by name at run time) made its
  // promise form with util.promisify at load, ~10 ms in all; now on first use.
  'apis/definitions.js': [
    [
      /^ {4}api\.async = promisify\(api\);$/m,
      "    Object.defineProperty(api, 'async', { configurable: true, enumerable: true, get() { const async = promisify(api); Object.defineProperty(api, 'async', { value: async, enumerable: true, writable: true }); return async; } });",
    ],
  ],
  'network/connection.js': [
    [/^import \{ connect as createTLSConnection \} from 'node:tls';$/m, `const createTLSConnection = ${onFirstCall('node:tls', 'connect')};`],
    // A request went to the socket as one buffer: its header and size concatenated with its body, a copy
    // of every produce request (100 MB at 1M lines, 4% of the produce's CPU). Its parts go instead, in one
    // writev (cork, write each, uncork); write() answers for back-pressure as it did for the whole.
    [/^( +)payload: writer\.buffer,$/m, '$1payload: writer.buffers,'],
    [
      /^( +)let canWrite = this\.#socket\.write\(request\.payload\);$/m,
      '$1let canWrite = true;\n$1this.#socket.cork();\n$1for (const part of request.payload) canWrite = this.#socket.write(part);\n$1this.#socket.uncork();',
    ],
  ],
  // zstd exists on every Node line spool supports (package.json engines), so the stand-ins for zstd,
  // always functions, answer the client's `typeof zstdCompressSync === 'function'` as the real ones do.
  'protocol/compression.js': [
    [/^import zlib from 'node:zlib';\n/m, ''],
    [
      /^import \{ lz4Compress, lz4Decompress, snappyCompress, snappyDecompress \} from '@platformatic\/wasm-utils';$/m,
      ['lz4Compress', 'lz4Decompress', 'snappyCompress', 'snappyDecompress'].map((name) => `const ${name} = ${onFirstCall('@platformatic/wasm-utils', name)};`).join('\n'),
    ],
    [
      /^const \{ gzip, zstdCompressSync, zstdDecompressSync, gzipSync, gunzipSync \} = zlib;$/m,
      ['gzip', 'zstdCompressSync', 'zstdDecompressSync', 'gzipSync', 'gunzipSync'].map((name) => `const ${name} = ${onFirstCall('node:zlib', name)};`).join('\n'),
    ],
  ],
  'protocol/sasl/scram-sha.js': [
    [
      /^import \{ createHash, createHmac, pbkdf2, randomBytes \} from 'node:crypto';$/m,
      ['createHash', 'createHmac', 'pbkdf2', 'randomBytes'].map((name) => `const ${name} = ${onFirstCall('node:crypto', name)};`).join('\n'),
    ],
  ],
}
const kafkaClient = {
  name: 'kafka-client',
  setup(build) {
    build.onResolve({filter: /.*/}, async (args) => {
      if (args.pluginData?.kafkaClient || !(args.path === '@platformatic/kafka' || kafkaClientDir.test(args.importer))) return undefined
      const resolved = await build.resolve(args.path, {kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: {kafkaClient: true}})
      if (resolved.errors.length > 0) return {errors: resolved.errors}
      if (resolved.external || !kafkaClientDir.test(resolved.path)) return undefined
      return {path: resolved.path, sideEffects: false}
    })
    build.onLoad({filter: kafkaClientDir}, (args) => {
      const file = args.path.split(kafkaClientDir).at(-1).replaceAll('\\', '/')
      const rewrites = kafkaClientRewrites[file]
      if (!rewrites) return undefined
      let contents = readFileSync(args.path, 'utf8')
      for (const [pattern, replacement] of rewrites) {
        if (!pattern.test(contents)) throw new Error(`${args.path}: ${pattern} no longer matches; update kafkaClientRewrites in scripts/bundle.js`)
        contents = contents.replace(pattern, replacement)
      }
      return {contents, loader: 'js', resolveDir: dirname(args.path)}
    })
  },
}

// Chunk names carry content hashes: start clean so stale chunks of earlier builds do not pile up.
rmSync(join(root, 'dist/bundle'), {recursive: true, force: true})

// Bundled CommonJS (oclif and its dependencies) still calls require(). One require serves every file
// of the bundle (made by the first that runs): what is left to require() is a builtin or a package,
// found alike from any directory of dist/bundle, and createRequire in each file a command loads cost
// about 0.1 ms apiece.
const banner = "import {createRequire as __spoolCreateRequire} from 'node:module'; const require = (globalThis[Symbol.for('spool.require')] ??= __spoolCreateRequire(import.meta.url));"

const {metafile} = await build({
  absWorkingDir: root,
  entryPoints: [
    {in: 'src/cli/entry.ts', out: 'run'},
    ...walk('commands').map((file) => ({in: file, out: file.replace(/\.ts$/, '')})),
  ],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  outdir: 'dist/bundle',
  chunkNames: 'chunks/[name]-[hash]',
  // Native addons and optional dev-time loaders of oclif stay outside the bundle (better-sqlite3's addon:
  // see sqliteBinding).
  // The Kafka client's WebAssembly helpers read their .wasm file relative to their own module; the schema codecs
  // (avsc, protobufjs, ajv) load only when a schema is involved, from their own files.
  // react-devtools-core is an optional development hook of ink.
  external: ['@node-rs/crc32', '@platformatic/wasm-utils', 'avsc', 'protobufjs', 'ajv', 'ajv-formats', 'react-devtools-core', 'typescript', 'ts-node', 'tsx'],
  banner: {js: banner},
  plugins: [lazyOclifRequires, sqliteBinding, kafkaClient],
  metafile: true,
  logLevel: 'warning',
})

await mergeCommonChunks(metafile)

// Node's built-in modules are required, not imported. An ESM import of a builtin builds a module namespace
// from every export, reading each property (lazy getters included): on Node 24 the first import of
// node:fs costs about 5 ms, node:process 3-7 ms, node:util 2 ms, where require() returns the already
// loaded module. esbuild writes each bundled module's imports where that module's code starts; each
// import of a builtin becomes a const from the banner's require (createRequire), with the same bindings,
// and all of them move to the top of the file, just after the banner: imports are hoisted, and a builtin
// depends on nothing of the bundle, so every binding exists before any code of the file runs, as before.
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))
const importStatement = /^import (?:([\w$]+)(?:, )?)?(?:\{([^}]*)\}|\* as ([\w$]+))? ?(?:from )?"([^"]+)";$/gm
for (const file of walkOutput('dist/bundle')) {
  const source = readFileSync(file, 'utf8')
  const hoisted = []
  const rest = source.replace(importStatement, (statement, defaultName, named, namespace, specifier) => {
    if (!builtins.has(specifier)) return statement
    const from = `require(${JSON.stringify(specifier)})`
    const parts = []
    if (defaultName) parts.push(`const ${defaultName} = ${from};`)
    if (namespace) parts.push(`const ${namespace} = ${from};`)
    if (named !== undefined) {
      const bindings = named.split(',').map((b) => b.trim()).filter(Boolean).map((b) => b.replace(/^([\w$]+) as ([\w$]+)$/, '$1: $2'))
      if (bindings.some((b) => /^default\b/.test(b))) throw new Error(`${file}: a named default import of ${specifier}; see scripts/bundle.js`)
      parts.push(`const { ${bindings.join(', ')} } = ${from};`)
    }
    if (parts.length === 0) parts.push(`${from};`)
    hoisted.push(parts.join(' '))
    return ''
  })
  if (hoisted.length === 0) continue
  const bannerEnd = rest.indexOf('\n') + 1
  if (!rest.startsWith('import {createRequire as __spoolCreateRequire}')) throw new Error(`${file}: no banner; see scripts/bundle.js`)
  writeFileSync(file, `${rest.slice(0, bannerEnd)}${hoisted.join('\n')}\n${rest.slice(bannerEnd)}`)
}

checkKafkaChunk()

/**
 * The Kafka backend's chunk must hold the client (not import it) and load nothing at start-up that
 * kafkaClientRewrites makes lazy: a module-level import or require of one of these fails the build.
 */
function checkKafkaChunk() {
  const chunks = walkOutput('dist/bundle').filter((file) => readFileSync(file, 'utf8').includes('// node_modules/@platformatic/kafka/dist/clients/admin/admin.js'))
  if (chunks.length !== 1) throw new Error(`the Kafka client is in ${chunks.length} chunks, expected 1; see kafkaClient in scripts/bundle.js`)
  const source = readFileSync(chunks[0], 'utf8')
  const atLoad = /^(?:import [^;]*? from |const [^;]*? = require\()"(node:tls|node:zlib|node:crypto|ajv[^"]*|avsc|protobufjs|@node-rs\/crc32|debug|@platformatic\/kafka|@platformatic\/wasm-utils)"/gm
  const loaded = [...source.matchAll(atLoad)].map((m) => m[1])
  if (loaded.length > 0) throw new Error(`${chunks[0]} loads ${loaded.join(', ')} at start-up; see kafkaClient in scripts/bundle.js`)
}

/** A relative path as the metafile and import specifiers write it, with forward slashes. */
function posixRelative(from, to) {
  return relative(from, to).replaceAll('\\', '/')
}

function walkOutput(dir) {
  return readdirSync(join(root, dir), {withFileTypes: true}).flatMap((entry) =>
    entry.isDirectory() ? walkOutput(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(root, dir, entry.name)] : [],
  )
}

/**
 * esbuild splits shared code by the exact set of entries that reach it, and with ~35 commands and ~20
 * dynamic imports that is ~45 chunks, most under 8 KB: a local consume loaded 30 files of the bundle, each
 * an ES module to resolve (realpath, package scope, URLs), read, compile and link, about 0.5-1 ms apiece.
 * The chunks the commands import statically become two modules, each bundled from its chunks by esbuild
 * (so the names and the order are esbuild's own), and every other file imports the same bindings from
 * them instead:
 * - core-HASH.js: what consume and produce (issue 14's start-up figures) and the two backends reach:
 *   oclif's chunk, the flags, the engine, the output writers, the checksums, esbuild's runtime helpers.
 * - rest-HASH.js: what only other commands reach: tables and chalk (whose colour detection loads
 *   node:tty), the transform, completion... Kept out of core so that consume and produce do not run it.
 * A command loads a little code it does not run (declarations mostly), in one or two files instead of
 * 20-30. Left apart: the entries (the commands, and what is imported dynamically: the local store, the
 * Kafka backend, ink and react, the schema codecs, ora, oclif's execute, all still lazy) and what the
 * bundle entry imports (nothing, once dropBareRuntimeImports is done), so that `spool --version` stays small.
 */
async function mergeCommonChunks(metafile) {
  const outputs = metafile.outputs
  const dropped = dropBareRuntimeImports(outputs)
  const staticImports = (output) =>
    outputs[output].imports.filter((i) => i.kind === 'import-statement' && !i.external && !dropped.has(`${output} ${i.path}`)).map((i) => i.path)
  /** Outputs reached from `starts` by static imports, dependencies first, each once. */
  const closure = (starts) => {
    const seen = new Set()
    const order = []
    const visit = (output) => {
      if (seen.has(output)) return
      seen.add(output)
      for (const dependency of staticImports(output)) visit(dependency)
      order.push(output)
    }
    for (const start of starts) visit(start)
    return order
  }
  const outputOf = (source) => {
    const found = Object.keys(outputs).filter((output) => outputs[output].entryPoint === source)
    if (found.length !== 1) throw new Error(`${found.length} outputs for ${source}; see mergeCommonChunks in scripts/bundle.js`)
    return found[0]
  }
  const apart = new Set(closure([outputOf('src/cli/entry.ts')]))
  const chunksOf = (starts) => closure(starts).filter((output) => !outputs[output].entryPoint && !apart.has(output))
  const commands = Object.keys(outputs).filter((output) => outputs[output].entryPoint?.startsWith('commands/')).sort()
  const hot = ['commands/consume.ts', 'commands/produce.ts', 'src/backends/local/local-store.ts', 'src/backends/kafka/kafka-backend.ts'].map(outputOf)
  const core = chunksOf(hot)
  const rest = chunksOf(commands).filter((output) => !core.includes(output))
  // Neither module may import the other both ways (core is closed under static imports, so rest imports core
  // and never the reverse), nor may a file outside a module be between two of its chunks: that would be
  // a cycle the chunks did not have.
  for (const group of [core, rest]) {
    const inGroup = new Set(group)
    for (const output of Object.keys(outputs)) {
      if (inGroup.has(output)) continue
      const reachesGroup = closure([output]).some((o) => inGroup.has(o))
      const reachedFromGroup = group.some((c) => closure([c]).includes(output))
      if (reachesGroup && reachedFromGroup) throw new Error(`${output} is between two chunks merged into one module; see mergeCommonChunks in scripts/bundle.js`)
    }
  }
  await mergeChunks(core, 'core', Object.keys(outputs))
  await mergeChunks(rest, 'rest', Object.keys(outputs).filter((output) => !core.includes(output)))
}

/**
 * esbuild's runtime helpers (__commonJS, __toESM, ...) are a chunk that every entry and most chunks
 * import, most of them bare (`import "./chunk-X.js";`, to keep an order of evaluation), whether or not they
 * use a helper. The helpers only define functions when loaded, so a bare import orders nothing; without
 * it `spool --version` loads the bundle entry alone, and the helpers go with the modules that use them.
 * Returns the import edges removed, as "importer imported".
 */
function dropBareRuntimeImports(outputs) {
  const runtime = Object.keys(outputs).filter((output) => {
    if (outputs[output].entryPoint) return false
    const source = readFileSync(join(root, output), 'utf8')
    // esbuild heads each module of the source with its path; the runtime is no module of the source.
    return /^var __commonJS = /m.test(source) && !/^\/\/ \S+$/m.test(source)
  })
  if (runtime.length !== 1) throw new Error(`${runtime.length} chunks of esbuild's runtime helpers, expected 1; see dropBareRuntimeImports in scripts/bundle.js`)
  const dropped = new Set()
  for (const output of Object.keys(outputs)) {
    if (!outputs[output].imports.some((i) => i.path === runtime[0])) continue
    const file = join(root, output)
    const source = readFileSync(file, 'utf8')
    const specifier = posixRelative(dirname(file), join(root, runtime[0])).replace(/^(?!\.)/, './')
    const rewritten = source.replace(`\nimport ${JSON.stringify(specifier)};\n`, '\n')
    if (rewritten.includes(basename(runtime[0]))) continue
    writeFileSync(file, rewritten)
    dropped.add(`${output} ${runtime[0]}`)
  }
  return dropped
}

/** Bundles `chunks` (outputs, in the order given: dependencies first) into one module NAME-HASH.js; each of `files` imports from it. */
async function mergeChunks(chunks, name, files) {
  if (chunks.length < 2) return
  const inGroup = new Set(chunks)
  const chunkDir = join(root, 'dist', 'bundle', 'chunks')
  const problem = (text) => new Error(`${text}; see mergeChunks in scripts/bundle.js`)
  // Each chunk's exports, under a name unique in the module.
  const exportsOf = new Map()
  const taken = new Map()
  for (const output of chunks) {
    if (dirname(join(root, output)) !== chunkDir) throw problem(`${output} is not in ${chunkDir}`)
    const source = readFileSync(join(root, output), 'utf8')
    const statements = [...source.matchAll(/^export\b.*$/gm)]
    const last = source.match(/^export \{([^}]*)\};\s*$/m)
    if (statements.length > (last ? 1 : 0)) throw problem(`${output}: an export esbuild does not write for chunks`)
    const names = last ? last[1].split(',').map((part) => part.trim()).filter(Boolean).map((part) => part.split(/\s+as\s+/).at(-1)) : []
    for (const exported of names) taken.set(exported, (taken.get(exported) ?? 0) + 1)
    exportsOf.set(output, names)
  }
  const alias = (output, exported) => (taken.get(exported) > 1 ? `${exported}$${chunks.indexOf(output)}` : exported)
  for (const output of chunks) for (const exported of exportsOf.get(output)) if (alias(output, exported) !== exported && taken.has(alias(output, exported))) throw problem(`${alias(output, exported)}: taken`)

  const entry = chunks
    .map((output) => {
      const specifier = JSON.stringify(`./${basename(output)}`)
      const names = exportsOf.get(output)
      return names.length === 0 ? `import ${specifier};` : `export { ${names.map((n) => (alias(output, n) === n ? n : `${n} as ${alias(output, n)}`)).join(', ')} } from ${specifier};`
    })
    .join('\n')
  const bannerLine = `${banner}\n`
  const result = await build({
    absWorkingDir: root,
    stdin: {contents: entry, resolveDir: chunkDir, sourcefile: `${name}.js`, loader: 'js'},
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    write: false,
    // The module gets the banner; each chunk's `require` (from its banner) becomes one binding to the same
    // function, under a name of its own, so that esbuild's names cannot collide with the banner's.
    banner: {js: banner},
    legalComments: 'inline',
    plugins: [
      {
        name: 'merge-chunks',
        setup(build) {
          build.onResolve({filter: /.*/}, (args) => {
            if (args.path === 'spool:require') return {path: 'spool:require', namespace: 'spool-require'}
            const path = args.path.startsWith('.') ? posixRelative(root, join(args.resolveDir, args.path)) : undefined
            return path && inGroup.has(path) ? {path: join(root, path)} : {path: args.path, external: true}
          })
          build.onLoad({filter: /.*/, namespace: 'spool-require'}, () => ({
            contents: "import {createRequire} from 'node:module'\nexport const __spoolRequire = (globalThis[Symbol.for('spool.require')] ??= createRequire(import.meta.url))\n",
            loader: 'js',
            resolveDir: chunkDir,
          }))
          build.onLoad({filter: /\.js$/}, (args) => {
            const source = readFileSync(args.path, 'utf8')
            if (!source.startsWith(bannerLine)) throw problem(`${args.path}: no banner`)
            // esbuild heads each module with its path (`// src/ops/consume.ts`); as legal comments, kept.
            const contents = source.slice(bannerLine.length).replace(/^\/\/ (\S+)$/gm, '//! $1')
            return {contents: `import {__spoolRequire as require} from 'spool:require';\n${contents}`, loader: 'js', resolveDir: chunkDir}
          })
        },
      },
    ],
    logLevel: 'warning',
  })
  const text = result.outputFiles[0].text
  // The chunks' code as it was: esbuild had nothing to convert (a require() it could not see would get its shim).
  const shims = (source) => source.split('Dynamic require of').length - 1
  if (shims(text) !== chunks.reduce((sum, output) => sum + shims(readFileSync(join(root, output), 'utf8')), 0)) throw problem(`the ${name} module calls require() unbound`)
  const merged = join(chunkDir, `${name}-${createHash('sha256').update(text).digest('hex').slice(0, 8).toUpperCase()}.js`)
  writeFileSync(merged, text)

  const chunkFiles = chunks.map((output) => basename(output))
  for (const output of files) {
    if (inGroup.has(output)) continue
    const file = join(root, output)
    const source = readFileSync(file, 'utf8')
    const rewritten = source.replace(/^import (?:\{([^}]*)\} from )?"(\.[^"]+)";$/gm, (statement, named, specifier) => {
      const target = posixRelative(root, join(dirname(file), specifier))
      if (!inGroup.has(target)) return statement
      const from = JSON.stringify(posixRelative(dirname(file), merged).replace(/^(?!\.)/, './'))
      if (named === undefined) return `import ${from};`
      const bindings = named.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
        const [imported, local = imported] = part.split(/\s+as\s+/)
        const exported = alias(target, imported)
        return exported === local ? local : `${exported} as ${local}`
      })
      return `import { ${bindings.join(', ')} } from ${from};`
    })
    const left = chunkFiles.filter((chunk) => rewritten.includes(chunk))
    if (left.length > 0) throw problem(`${output} still refers to ${left.join(', ')}`)
    if (rewritten !== source) writeFileSync(file, rewritten)
  }
  for (const output of chunks) rmSync(join(root, output))
}
