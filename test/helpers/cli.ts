import {spawn, type ChildProcess, type SpawnOptions} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
}

/** A fresh SPOOL_HOME for one test; removed by cleanup(). */
export function tempHome(): {home: string; store: string; env: NodeJS.ProcessEnv; cleanup: () => void} {
  const home = mkdtempSync(join(tmpdir(), 'spool-test-'))
  const env = {...process.env, SPOOL_HOME: home, NO_COLOR: '1'}
  delete env.SPOOL_BROKER
  delete env.DEBUG
  return {home, store: join(home, 'spool.db'), env, cleanup: () => rmSync(home, {recursive: true, force: true})}
}

/** Starts the built CLI with real pipes. */
export function start(args: string[], options: SpawnOptions & {env: NodeJS.ProcessEnv}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {stdio: ['pipe', 'pipe', 'pipe'], ...options})
}

/** Runs the built CLI to completion, feeding `input` on stdin (or closing stdin at once). */
export function run(args: string[], options: {env: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = start(args, {env: options.env, cwd: options.cwd})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout!.on('data', (d: Buffer) => out.push(d))
    child.stderr!.on('data', (d: Buffer) => err.push(d))
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolvePromise({code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8')}),
    )
    child.stdin!.on('error', () => {})
    child.stdin!.end(options.input ?? '')
  })
}

/** Waits until `predicate` holds for the text seen on a stream. */
export function waitForOutput(stream: NodeJS.ReadableStream, predicate: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let text = ''
    const timer = setTimeout(() => {
      stream.off('data', onData)
      reject(new Error(`timed out waiting for output; saw: ${JSON.stringify(text.slice(-500))}`))
    }, timeoutMs)
    const onData = (d: Buffer) => {
      text += d.toString('utf8')
      if (predicate(text)) {
        clearTimeout(timer)
        stream.off('data', onData)
        resolvePromise(text)
      }
    }
    stream.on('data', onData)
  })
}
