import {flush, handle, run} from '@oclif/core'
import {reportStdoutErrors} from './stdout-errors.js'

/** oclif's `command X not found` (and help's `Command X not found.`), told apart from other errors. */
const NOT_FOUND = /^[Cc]ommand (.+?) not found\.?$/

/**
 * oclif's full path: Config.load, hooks, help, command lookup and its error handling (what oclif's
 * `execute` does), except that an unknown command gets spool's one-line error, not oclif's "›   Error:".
 */
export async function runOclif(dir: string, argv: string[]): Promise<void> {
  // Put first, before oclif's Command module loads and adds its own (./stdout-errors.ts).
  reportStdoutErrors()
  try {
    await run(argv, dir)
    await flush()
  } catch (error) {
    const unknown = error instanceof Error ? NOT_FOUND.exec(error.message) : null
    if (!unknown) return handle(error instanceof Error ? error : new Error(String(error)))
    const name = unknown[1]!.replaceAll(':', ' ')
    process.stderr.write(`spool: there is no command '${name}' (see the commands with: spool --help)\n`)
    process.exitCode = 2
  }
}
