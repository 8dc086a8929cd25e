#!/usr/bin/env node
// Rebuilds the bundle from the TypeScript sources (under a second), then runs it: for working on spool.
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
execFileSync(process.execPath, ['scripts/bundle.js'], {cwd: root, stdio: 'inherit'})
const {main} = await import('../dist/bundle/run.js')
await main(import.meta.url)
