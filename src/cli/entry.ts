import {execute} from '@oclif/core'

/** Runs the command line; `dir` is the launcher's URL, from which oclif finds package.json. */
export async function main(dir: string): Promise<void> {
  await execute({dir})
}
