// Bundles the CLI into dist/bundle with esbuild: one shared chunk of @oclif/core instead of ~150 small
// CommonJS modules cuts start-up by about a third. Each command stays its own entry so oclif's manifest
// loads only the command that runs; drivers (better-sqlite3) stay external and load on demand.
import {build} from 'esbuild'
import {readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const walk = (dir) =>
  readdirSync(join(root, dir), {withFileTypes: true}).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )

// Chunk names carry content hashes: start clean so stale chunks of earlier builds do not pile up.
rmSync(join(root, 'dist/bundle'), {recursive: true, force: true})

await build({
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
  // Native addons and optional dev-time loaders of oclif stay outside the bundle.
  // The Kafka client loads its WebAssembly helpers relative to its own modules; the schema codecs
  // (avsc, protobufjs, ajv) load only when a schema is involved, from their own files.
  // react-devtools-core is an optional development hook of ink.
  external: ['better-sqlite3', '@node-rs/crc32', '@platformatic/kafka', 'avsc', 'protobufjs', 'ajv', 'ajv-formats', 'react-devtools-core', 'typescript', 'ts-node', 'tsx'],
  // Bundled CommonJS (oclif and its dependencies) still calls require().
  banner: {js: "import {createRequire as __spoolCreateRequire} from 'node:module'; const require = __spoolCreateRequire(import.meta.url);"},
  logLevel: 'warning',
})
