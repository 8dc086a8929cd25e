import {describeError, ExitCode, OutputError} from '../core/errors.js'
import {isOutputWatcher} from '../io/output.js'

/**
 * How a failed write to stdout ends a run. oclif's Command module, once loaded, adds a listener that
 * rethrows every stdout error but EPIPE, so `spool topic list > /dev/full` ended with a stack trace, and
 * so did `spool consume T > /dev/full` (the throw came before spool's own writer saw the error).
 *
 * This removes the stdout error listeners there are when it is called (oclif's: BaseCommand.init calls it,
 * after oclif's Command module loaded; oclif-run.ts before oclif loads) and puts its own first. An error on a
 * stream that spool's BufferedOutput watches is left to it: a closed pipe stops consume, which commits
 * what the pipe took, and any other error fails the command through the usual path, cleanup included.
 * Otherwise (tables, help) a closed pipe ends the run with status 0 (`spool --help | head -1`: oclif would
 * wait for it to drain, forever), and any other error (a full disk, an I/O error) with one line and
 * status 1, before oclif's listener sees it.
 */
export function reportStdoutErrors(): void {
  const stdout = process.stdout
  for (const listener of stdout.listeners('error')) stdout.off('error', listener as (error: Error) => void)
  stdout.prependListener('error', (error: NodeJS.ErrnoException) => {
    if (stdout.listeners('error').some(isOutputWatcher)) return
    if (error.code === 'EPIPE') process.exit(ExitCode.ok)
    process.stderr.write(`spool: ${describeError(new OutputError(error))}\n`)
    process.exit(ExitCode.failure)
  })
}
