// Static: every run starts with it (it imports nothing heavy itself), so it is part of the bundle's entry
// rather than one more module to load.
import {runFast} from './fast-path.js'

/**
 * Runs the command line; `dir` is the launcher's URL, from which oclif finds package.json. spool's own
 * commands and --version take the fast path (./fast-path.ts); everything else (help, unknown commands,
 * a setup the fast path cannot reproduce) goes through oclif's execute, in its own module so that the
 * fast path never loads it.
 */
export async function main(dir: string): Promise<void> {
  if (await runFast(process.argv.slice(2), dir)) return
  const {runOclif} = await import('./oclif-run.js')
  await runOclif(dir)
}
