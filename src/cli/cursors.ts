import {Flags} from '@oclif/core'
import {type BrokerAddress, parseBrokerAddress} from '../backends/index.js'
import {readContexts} from '../backends/contexts.js'
import type {Backend, CursorStore} from '../core/backend.js'
import type {StoreAccess} from '../backends/local/store-file.js'
import {type BackendFlags, resolveBrokerAddress} from './base-command.js'
import {UsageError} from '../core/errors.js'
import {ReadCursor, type SourceOpener} from '../ops/cursors.js'

type LocalAddress = Extract<BrokerAddress, {kind: 'local'}>

const storeFlag = Flags.string({
  env: 'SPOOL_STORE',
  summary: "The local store (a file path) that keeps cursors. Default: the command's local store (-b file:PATH), else $SPOOL_HOME/spool.db.",
  helpGroup: 'CURSOR',
})

/** --cursor and --store, for consume, tail, replay and pipe. */
export const cursorFlags = {
  cursor: Flags.string({
    summary:
      'Resume from this cursor and move it as records are written: a position kept in a local store (see --store), on any backend. Nothing is committed to the source: it works with read-only access and leaves no consumer group. See: spool cursor list.',
    helpGroup: 'CURSOR',
  }),
  store: storeFlag,
}

/** --store alone, for the cursor commands. */
export const cursorStoreFlags = {store: storeFlag}

/** A cursor and a consumer group both say where to resume: one of them. */
export function checkCursorFlags(flags: {cursor?: string; group?: string}): void {
  if (flags.cursor === undefined) return
  if (flags.group !== undefined)
    throw new UsageError('--cursor and -g/--group both say where to resume and what to move', 'use one: --cursor keeps the position locally, -g commits it to the source')
  if (!flags.cursor.trim()) throw new UsageError('--cursor needs a name', 'e.g. --cursor audit')
}

/**
 * The store that keeps cursors: --store (SPOOL_STORE), else the first local store among `candidates`
 * (the command's own, or pipe's destination then source), else the default store.
 */
export function cursorStoreAddress(store: string | undefined, candidates: BrokerAddress[]): LocalAddress {
  if (store !== undefined) {
    const address = parseBrokerAddress(store.startsWith('file:') || store.includes('://') ? store : `file:${store}`)
    if (address.kind !== 'local') throw new UsageError(`--store '${store}' is not a local store`, 'cursors live in a local store: give a file path, e.g. --store ./cursors.db')
    return address
  }
  return candidates.find((a): a is LocalAddress => a.kind === 'local') ?? (parseBrokerAddress(undefined) as LocalAddress)
}

export function keepsCursors(address: BrokerAddress, at: LocalAddress | undefined): boolean {
  return at !== undefined && address.kind === 'local' && address.path === at.path
}

/**
 * The cursor `name` over `source`, kept in the store at `at`: one of the backends already open when it
 * is that store (opened for writing), else the store opened for writing by `open`.
 */
export async function openCursor(name: string, source: Backend, at: LocalAddress, opened: Backend[], open: (address: LocalAddress) => Promise<Backend>): Promise<ReadCursor> {
  const store = opened.find((b) => b.kind === 'local' && b.location === at.path) ?? (await open(at))
  return new ReadCursor(name, store, source)
}

/** An address's identity, as sourceIdentity() gives it for the backend it opens. */
function addressIdentity(address: BrokerAddress): string {
  return address.kind === 'local' ? `file:${address.path}` : `kafka://${[...address.brokers].sort().join(',')}`
}

/**
 * Opens a cursor's source (for reading) by its identity. The command's own backend, or else a context
 * for the same cluster, brings the credentials a bare kafka:// address lacks.
 */
export function sourceOpener(own: BrokerAddress, open: (address: BrokerAddress) => Promise<Backend>): SourceOpener {
  return async (identity) => {
    if (addressIdentity(own) === identity) return open(own)
    const address = parseBrokerAddress(identity)
    for (const context of Object.values(readContexts().contexts)) {
      const named = parseBrokerAddress(context.broker)
      if (named.kind === 'kafka' && addressIdentity(named) === identity) return open({...named, settings: context.settings})
    }
    return open(address)
  }
}

/** The store the cursor commands look in: --store, else -b when it names a local store, else the default store. */
export async function openCursorStore(
  flags: BackendFlags & {store?: string},
  access: StoreAccess,
  open: (address: BrokerAddress, access: StoreAccess) => Promise<Backend>,
): Promise<CursorStore> {
  const backend = await open(cursorStoreAddress(flags.store, [resolveBrokerAddress(flags)]), access)
  return backend.cursorStore!()
}

/**
 * What consume and tail open before they read to stdout: the source (for writing when it takes the
 * group's commits or keeps the cursor), the cursor of --cursor, and where that cursor resumes `topics`.
 * A resume's notes (a topic made again since, a position past retention) go to `warn`.
 */
export async function openSourceWithCursor(
  flags: BackendFlags & {cursor?: string; group?: string; store?: string},
  topics: string[],
  open: (address: BrokerAddress, access: StoreAccess) => Promise<Backend>,
  warn: (line: string) => void,
): Promise<{backend: Backend; cursor?: ReadCursor; resume?: Awaited<ReturnType<ReadCursor['resume']>>}> {
  checkCursorFlags(flags)
  const own = resolveBrokerAddress(flags)
  const cursorAt = flags.cursor === undefined ? undefined : cursorStoreAddress(flags.store, [own])
  const backend = await open(own, flags.group === undefined && !keepsCursors(own, cursorAt) ? 'read' : 'write')
  if (!cursorAt) return {backend}
  const cursor = await openCursor(flags.cursor!, backend, cursorAt, [backend], (at) => open(at, 'write'))
  const resume = await cursor.resume(topics)
  for (const note of resume.notes) warn(`spool: ${note}`)
  return {backend, cursor, resume}
}
