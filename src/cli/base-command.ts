import type {Writable} from 'node:stream'
import {Command, Flags, type Interfaces} from '@oclif/core'
import {type Streams, currentStreams, isProcessStreams} from '../io/streams.js'
import {type BrokerAddress, type OpenOptions, openBackend, parseBrokerAddress} from '../backends/index.js'
import type {Backend} from '../core/backend.js'
import type {StoreAccess} from '../backends/local/store-file.js'
import {selectedContext} from '../backends/contexts.js'
import {durationFlag} from './flags.js'
import {reportStdoutErrors} from './stdout-errors.js'
import {withSpinner} from './progress.js'
import {ExitCode, SpoolError, describeError, errorTree, exitCodeOf, isUnreachable} from '../core/errors.js'

/**
 * What every spool command shares: the backend flags, opening the backend through the one factory, and
 * the one place where an error becomes a line on stderr and an exit code.
 */
export abstract class SpoolCommand extends Command {
  static override baseFlags = {
    broker: Flags.string({
      char: 'b',
      env: 'SPOOL_BROKER',
      summary: 'Where feeds live: file:PATH (a local store) or kafka://host:port[,host:port]. Default: $SPOOL_HOME/spool.db',
      helpGroup: 'BACKEND',
    }),
    context: Flags.string({
      env: 'SPOOL_CONTEXT',
      summary: 'Use this named cluster (see: spool context list) instead of the current context or -b.',
      helpGroup: 'BACKEND',
    }),
    timeout: durationFlag({
      summary: 'Kafka: fail when a broker has not answered within this long (e.g. 30s). Default: 10s.',
      helpGroup: 'BACKEND',
    }),
    debug: Flags.boolean({summary: 'Print stack traces with errors.', helpGroup: 'BACKEND'}),
  }

  /**
   * The exit code of a failure where 1 is an answer, not a failure: `diff` exits 1 for "different", so,
   * as diff(1) and cmp(1) do, it fails with 2, and a script never takes a broken read for a difference.
   */
  static failureExitCode: number = ExitCode.failure

  private backends: Backend[] = []

  /**
   * oclif's lifecycle calls this before run(): by now oclif's Command module has added its stdout error
   * listener, which turns a full disk into a stack trace; ./stdout-errors.ts puts spool's in its place.
   * Not for a test's captured streams (commands run in process): the process's stdout is vitest's then.
   */
  protected override async init(): Promise<void> {
    if (isProcessStreams(this.streams)) reportStdoutErrors()
    await super.init()
  }

  /** stdout (data) and stderr (notes): the process's, or a test's captured ones (src/io/streams.ts). */
  protected get streams(): Streams {
    return currentStreams()
  }

  /**
   * Opens the backend the flags name. `access` says what the command will do with it: a local store
   * opened for reading is read-only and is never created.
   */
  protected async openBackend(flags: BackendFlags, access: StoreAccess): Promise<Backend> {
    return this.openBackendAt(resolveBrokerAddress(flags), flags, access)
  }

  /** Opens a backend named by a topic argument (pipe, replay --to); it is closed with the command. */
  protected async openBackendAt(address: BrokerAddress, flags: BackendFlags, access: StoreAccess): Promise<Backend> {
    const {durable, timeout, compression, acks} = flags
    const backend = await openBackend(address, {
      access,
      durable,
      timeoutMs: timeout,
      compression: compression as OpenOptions['compression'],
      acks: acks === undefined ? undefined : acks === 'all' ? -1 : (Number(acks) as 0 | 1),
    })
    this.backends.push(backend)
    if (backend.connect)
      try {
        await withSpinner(`connecting to ${backend.location}`, () => backend.connect!())
      } catch (error) {
        // A following command (-f) waits out a Kafka it cannot reach yet, at its first call (src/core/outage.ts).
        if (!(flags as {follow?: boolean}).follow || !isUnreachable(error)) throw error
      }
    return backend
  }

  /**
   * The schema registry a command names (--registry, SPOOL_REGISTRY, the context's), else the local
   * store's own, opened with `access`.
   */
  protected async openSchemaRegistry(flags: BackendFlags & {registry?: string; 'registry-username'?: string; 'registry-ca'?: string}, access: StoreAccess) {
    const {httpRegistry, namedRegistry, requireRegistry} = await import('./registry.js')
    const named = namedRegistry(flags)
    if (named) return httpRegistry(named, flags.timeout)
    return requireRegistry(await this.openBackend(flags, access), flags, `spool ${this.id?.replaceAll(':', ' ') ?? 'schema'}`)
  }

  /** An exit status for a command that ends normally but must not say 0 (schema check: not compatible). */
  protected setExitCode(code: number): void {
    const streams = this.streams
    streams.exitCode = code
    if (isProcessStreams(streams)) process.exitCode = code
  }

  override async catch(error: Interfaces.CommandError): Promise<void> {
    const failureCode = (this.constructor as typeof SpoolCommand).failureExitCode
    const code = exitCodeOf(error) === ExitCode.failure ? failureCode : exitCodeOf(error)
    const streams = this.streams
    streams.exitCode = code
    if (isProcessStreams(streams)) process.exitCode = code
    const debug = process.argv.includes('--debug') || Boolean(process.env.DEBUG)
    const message = isParseError(error)
      ? describeParseError(error.message, this.id)
      : describeError(unwrapFlagError(error)).split('\n')[0]!.replace(/^Error: /, '')
    const {paintStderr} = await import('./colour.js')
    streams.err.write(`${isProcessStreams(streams) ? paintStderr.red('spool:') : 'spool:'} ${message}\n`)
    if (debug) printErrorChain(error, streams.err)
  }

  /** --json (oclif's enableJsonFlag): what run() returns, printed on this command's stdout. */
  protected override logJson(json: unknown): void {
    printJson(json)
  }

  override async finally(error: Error | undefined): Promise<void> {
    for (const backend of this.backends.splice(0)) await backend.close().catch(() => {})
    await super.finally(error)
  }
}

/** --debug: the error, its causes and the errors it aggregates (a client's failures nest several deep). */
function printErrorChain(error: unknown, err: Writable): void {
  for (const {error: node, depth} of errorTree(error)) {
    if (!(node instanceof Error)) continue
    const indent = '  '.repeat(depth)
    err.write(`${indent}${(node.stack ?? String(node)).split('\n').join(`\n${indent}`)}\n`)
    if (node.code !== undefined) err.write(`${indent}code: ${String(node.code)}\n`)
  }
}

export interface BackendFlags {
  broker?: string
  context?: string
  /** Milliseconds. */
  timeout?: number
  durable?: boolean
  compression?: string
  acks?: string
}

/**
 * Which backend a command talks to: an explicit --context, else -b / SPOOL_BROKER, else the current
 * context, else the default local store.
 */
export function resolveBrokerAddress(flags: BackendFlags, env: NodeJS.ProcessEnv = process.env): BrokerAddress {
  const named = flags.context ? selectedContext(flags.context, env) : undefined
  if (named || !flags.broker) {
    const chosen = named ?? selectedContext(undefined, env)
    if (chosen) {
      const address = parseBrokerAddress(chosen.context.broker, env)
      return address.kind === 'kafka' ? {...address, settings: chosen.context.settings} : address
    }
  }
  return parseBrokerAddress(flags.broker, env)
}

/**
 * oclif wraps an error thrown by a flag's parser as "Parsing --flag \n\t<message>\nSee more help": a
 * typed flag's UsageError keeps its own one-line message.
 */
function unwrapFlagError(error: unknown): unknown {
  if (!(error instanceof SpoolError)) return error
  const match = /^Parsing --[\w-]+ ?\n\t([\s\S]*?)(\nSee more help with --help)?$/.exec(error.message)
  if (match) error.message = match[1]!
  return error
}

function isParseError(error: unknown): error is Error {
  return error instanceof Error && !(error instanceof SpoolError) && (error as {oclif?: {exit?: number}}).oclif?.exit === 2
}

/** oclif's parse errors span several lines (a list of arguments, "See more help"); spool prints one. */
export function describeParseError(message: string, commandId: string | undefined): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^See more help with --help$/.test(line) && !/^The following errors? occurred:$/.test(line))
  let text: string
  const missing = /^Missing \d+ required args?:?$/.exec(lines[0] ?? '')
  const argumentLines = lines.slice(1, lines.findIndex((line) => /^(Note|Alternatively)\b/.test(line)) >>> 0)
  if (missing) text = `missing ${argumentLines.map((line) => line.split(/\s+/)[0]!.toUpperCase()).join(', ') || 'arguments'}`
  else {
    text = lines.join('; ').replace(/^Parsing (--[\w-]+);? (\w)/, (_, flag: string, first: string) => `${flag}: ${first.toLowerCase()}`)
    text = text.charAt(0).toLowerCase() + text.slice(1)
  }
  return commandId ? `${text} (see: spool ${commandId.replaceAll(':', ' ')} --help)` : text
}

/** Writes a JSON document for scripts: stdout only carries data. */
export function printJson(value: unknown): void {
  currentStreams().out.write(`${JSON.stringify(value, null, 2)}\n`)
}

/**
 * oclif takes no digits as short flags; spool's -0 (NUL-delimited records, like xargs -0) is spelled
 * --null. A -0 that is the value of a flag (--from -0: zero records before the end) stays a value.
 */
export function expandNullFlag(argv: string[], flags: Record<string, {type: string; char?: string}> = {}): string[] {
  const end = argv.indexOf('--')
  const takesValue = (arg: string | undefined) =>
    arg !== undefined &&
    Object.entries(flags).some(([name, flag]) => flag.type === 'option' && (arg === `--${name}` || (flag.char !== undefined && arg === `-${flag.char}`)))
  return argv.map((arg, i) => (arg === '-0' && (end < 0 || i < end) && !takesValue(argv[i - 1]) ? '--null' : arg))
}
