#!/usr/bin/env node
// Runs the compiled commands after a fresh `npm run build`; spool has no TypeScript loader at run time.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
