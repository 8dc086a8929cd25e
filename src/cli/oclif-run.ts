import {execute} from '@oclif/core'

/** oclif's full path: Config.load, hooks, help, command lookup and its error handling. */
export async function runOclif(dir: string): Promise<void> {
  await execute({dir})
}
