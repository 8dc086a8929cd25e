import {PassThrough} from 'node:stream'
import type {Command} from '@oclif/core'
import {runWithStreams, type Streams} from '../../src/io/streams.js'
import {ROOT} from './cli.js'

export interface InProcessResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs a command class in this process, with captured stdout and stderr and the given environment
 * variables, through oclif's own parsing and spool's error handling: the fast path for testing what a
 * command prints and its exit status. Pipes, signals and concurrency stay with the spawned tests.
 */
export async function runInProcess(
  command: {run(argv?: string[], opts?: string): Promise<unknown>} & typeof Command,
  argv: string[],
  env: Record<string, string | undefined> = {},
): Promise<InProcessResult> {
  const out = new PassThrough()
  const err = new PassThrough()
  const chunks = {out: [] as Buffer[], err: [] as Buffer[]}
  out.on('data', (d: Buffer) => chunks.out.push(d))
  err.on('data', (d: Buffer) => chunks.err.push(d))
  const streams: Streams = {out, err, errIsTTY: false, columns: 0}
  const saved = new Map(Object.keys(env).map((name) => [name, process.env[name]]))
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  try {
    await runWithStreams(streams, () => command.run(argv, ROOT))
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
  return {code: streams.exitCode ?? 0, stdout: Buffer.concat(chunks.out).toString('utf8'), stderr: Buffer.concat(chunks.err).toString('utf8')}
}
