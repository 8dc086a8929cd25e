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
  const argv = helpForms(process.argv.slice(2))
  if (await runFast(argv, dir)) return
  const {runOclif} = await import('./oclif-run.js')
  await runOclif(dir, argv)
}

/**
 * The ways people ask for help and the version that oclif does not take, as its own flags: `spool help
 * [COMMAND...]`, `-h` (rpk's, and most tools'), `spool version`. Arguments after `--` stay as they are.
 */
export function helpForms(argv: string[]): string[] {
  const end = argv.indexOf('--')
  let head = (end < 0 ? argv : argv.slice(0, end)).map((arg) => (arg === '-h' ? '--help' : arg))
  if (head[0] === 'help') head = [...head.slice(1), '--help']
  if (head.length === 1 && head[0] === 'version') head = ['--version']
  return end < 0 ? head : [...head, ...argv.slice(end)]
}
