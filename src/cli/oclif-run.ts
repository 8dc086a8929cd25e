import {execute} from '@oclif/core'
import {reportStdoutErrors} from './stdout-errors.js'

/** oclif's full path: Config.load, hooks, help, command lookup and its error handling. */
export async function runOclif(dir: string): Promise<void> {
  // Put first, before oclif's Command module loads and adds its own (./stdout-errors.ts).
  reportStdoutErrors()
  await execute({dir})
}
