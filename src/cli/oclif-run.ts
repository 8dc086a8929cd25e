import {execute} from '@oclif/core'

/** oclif's full path: Config.load, hooks, help, command lookup and its error handling. */
export async function runOclif(dir: string): Promise<void> {
  // A reader that stops early (`spool --help | head -1`): oclif would wait for the closed pipe to drain,
  // forever, and Node would end the run with status 13 and a warning about an unsettled await. The rest
  // of the help has nowhere to go; the run ends as a read into a closed pipe does, with status 0.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    process.stderr.write(`spool: cannot write to stdout (${error.message})\n`)
    process.exit(1)
  })
  await execute({dir})
}
