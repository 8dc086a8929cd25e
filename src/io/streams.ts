import {AsyncLocalStorage} from 'node:async_hooks'
import type {Writable} from 'node:stream'

/**
 * Where a command writes: `out` for data only, `err` for notes, warnings and errors. Commands and the
 * operations they call write through this, never to process.stdout and process.stderr directly, so that
 * a test can run a command in-process with captured streams (runWithStreams) while the spawned
 * end-to-end tests keep the real pipes, signals and processes.
 */
export interface Streams {
  out: Writable
  err: Writable
  /** stderr is a terminal (progress, colour, prompts). */
  errIsTTY: boolean
  /** Width of the terminal stderr is on; 0 when unknown. */
  columns: number
  /** The exit status the command chose; in-process runs read it here instead of process.exitCode. */
  exitCode?: number
}

const processStreams = (): Streams => ({
  out: process.stdout,
  err: process.stderr,
  errIsTTY: Boolean(process.stderr.isTTY),
  columns: process.stderr.columns ?? 0,
})

const scoped = new AsyncLocalStorage<Streams>()

/** The streams of the command running now: the process's own unless a test supplied others. */
export function currentStreams(): Streams {
  return scoped.getStore() ?? processStreams()
}

/** Runs `fn` (a command) with these streams as its stdout and stderr. */
export function runWithStreams<T>(streams: Streams, fn: () => Promise<T>): Promise<T> {
  return scoped.run(streams, fn)
}

/** Whether the streams are the process's own (exit codes then go to process.exitCode). */
export function isProcessStreams(streams: Streams): boolean {
  return streams.out === process.stdout
}
