/**
 * Runs the command line; `dir` is the launcher's URL, from which oclif finds package.json. spool's own
 * commands and --version take the fast path (./fast-path.ts); everything else (help, unknown commands,
 * a setup the fast path cannot reproduce) goes through oclif's execute, in its own module so that the
 * fast path never loads it.
 */
export async function main(dir: string): Promise<void> {
  const {runFast} = await import('./fast-path.js')
  if (await runFast(process.argv.slice(2), dir)) return
  const {runOclif} = await import('./oclif-run.js')
  await runOclif(dir)
}
