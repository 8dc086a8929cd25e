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

/** A name no other test (nor an earlier run against the same broker) has used: topics, groups, subjects. */
export function unique(name: string): string {
  return `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`
}

/** A fresh SPOOL_HOME for one test; removed by cleanup(). */
export function tempHome(): {home: string; store: string; env: NodeJS.ProcessEnv; cleanup: () => void} {
  const home = mkdtempSync(join(tmpdir(), 'spool-test-'))
  const env = {...process.env, SPOOL_HOME: home, NO_COLOR: '1'}
  delete env.SPOOL_BROKER
  delete env.DEBUG
  // spool runs as in a user's shell: a CI runner's CI variable makes chalk drop colour even on a terminal.
  delete env.CI
  delete env.CONTINUOUS_INTEGRATION
  // vitest sets NODE_ENV=test, which makes oclif print development warnings users never see.
  delete env.NODE_ENV
  return {home, store: join(home, 'spool.db'), env, cleanup: () => rmSync(home, {recursive: true, force: true})}
}

/** Starts the built CLI with real pipes. */
export function start(args: string[], options: SpawnOptions & {env: NodeJS.ProcessEnv}): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], {stdio: ['pipe', 'pipe', 'pipe'], ...options})
  started.add(child)
  child.on('exit', () => started.delete(child))
  return child
}

/** Processes start() spawned that have not exited: a test that fails while they follow leaves them running. */
const started = new Set<ChildProcess>()

/** Kills what start() spawned and is still running (after each test: test/setup/stop-started.ts). */
export function stopStarted(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  started.clear()
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

/** Runs a bash pipeline with the test's environment; `bin` in the script is the CLI (node bin/run.js). */
export function sh(script: string, options: {env: NodeJS.ProcessEnv; input?: string | Buffer}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], {env: {...options.env, bin: `${process.execPath} ${BIN}`}, stdio: ['pipe', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolvePromise({code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8')}))
    child.stdin.on('error', () => {})
    child.stdin.end(options.input ?? '')
  })
}

/** Every record of the topics as parsed JSON envelopes (consume --json), in output order. */
export async function envelopes(topics: string[], env: NodeJS.ProcessEnv, extra: string[] = []): Promise<Array<Record<string, any>>> {
  const result = await run(['consume', ...topics, '--json', ...extra], {env})
  if (result.code !== 0) throw new Error(`consume failed (${result.code}): ${result.stderr}`)
  return result.stdout
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
}
