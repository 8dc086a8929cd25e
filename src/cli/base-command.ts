import {Command, Flags, type Interfaces} from '@oclif/core'
import {type BrokerAddress, openBackend, parseBrokerAddress} from '../backends/index.js'
import type {Backend} from '../core/backend.js'
import {SpoolError, describeError, exitCodeOf} from '../core/errors.js'

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
    debug: Flags.boolean({summary: 'Print stack traces with errors.', helpGroup: 'BACKEND'}),
  }

  private backends: Backend[] = []

  protected async openBackend(flags: {broker?: string; durable?: boolean}): Promise<Backend> {
    return this.openBackendAt(parseBrokerAddress(flags.broker), flags)
  }

  /** Opens a backend named by a topic argument (pipe, replay --to); it is closed with the command. */
  protected async openBackendAt(address: BrokerAddress, flags: {durable?: boolean} | object = {}): Promise<Backend> {
    const backend = await openBackend(address, {durable: (flags as {durable?: boolean}).durable})
    this.backends.push(backend)
    return backend
  }

  override async catch(error: Interfaces.CommandError): Promise<void> {
    const code = exitCodeOf(error)
    process.exitCode = code
    const debug = process.argv.includes('--debug') || Boolean(process.env.DEBUG)
    const message = isParseError(error) ? describeParseError(error.message, this.id) : describeError(error).split('\n')[0]!.replace(/^Error: /, '')
    process.stderr.write(`spool: ${message}\n`)
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
  }

  override async finally(error: Error | undefined): Promise<void> {
    for (const backend of this.backends.splice(0)) await backend.close().catch(() => {})
    await super.finally(error)
  }
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
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** oclif takes no digits as short flags; spool's -0 (NUL-delimited records, like xargs -0) is spelled --null. */
export function expandNullFlag(argv: string[]): string[] {
  const end = argv.indexOf('--')
  return argv.map((arg, i) => (arg === '-0' && (end < 0 || i < end) ? '--null' : arg))
}
