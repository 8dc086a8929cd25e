#!/usr/bin/env node
// Plain, old syntax until the version check: on a Node older than spool's floor this file must still
// load, say so in one line and exit, instead of failing somewhere inside a dependency.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(`spool needs Node 22.22 or newer; this is Node ${process.versions.node}\n`)
  process.exit(1)
}

// spool checked the engine above; oclif's own check loads semver and reads package.json on every run.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'

// V8's compiled code for the bundle is kept on disk between runs (Node's own cache, in the OS temp
// directory): measured in docs/BENCHMARKS.md.
const {enableCompileCache} = await import('node:module')
enableCompileCache?.()

const {main} = await import('../dist/bundle/run.js')
await main(import.meta.url)
