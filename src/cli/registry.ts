import {readFileSync} from 'node:fs'
import {Flags} from '@oclif/core'
import {type RegistrySettings, selectedContext} from '../backends/contexts.js'
import type {Backend} from '../core/backend.js'
import {UsageError} from '../core/errors.js'
import type {RecordSink} from '../ops/sinks.js'
import type {RecordDecoder} from '../schemas/decoder.js'
import type {SchemaRegistry} from '../schemas/registry.js'

/** Flags of every command that reads or writes records with schemas. */
export const registryFlags = {
  registry: Flags.string({
    env: 'SPOOL_REGISTRY',
    summary: 'A Confluent-compatible schema registry (http[s]://host:port[/path]). Default: the context\'s; a local store is its own.',
    helpGroup: 'SCHEMAS',
  }),
  'registry-username': Flags.string({
    env: 'SPOOL_REGISTRY_USERNAME',
    summary: 'User name for the registry (basic auth); the password comes from SPOOL_REGISTRY_PASSWORD.',
    helpGroup: 'SCHEMAS',
  }),
  'registry-ca': Flags.string({summary: 'PEM file of the certificate authorities to trust for an https registry.', helpGroup: 'SCHEMAS'}),
}

/** consume, tail, replay and top: --decode and where the schemas are. */
export const decodeFlags = {
  decode: Flags.boolean({
    summary: 'Print keys and values framed for a schema registry (Avro, Protobuf, JSON Schema) as JSON; others as they are.',
    helpGroup: 'SCHEMAS',
  }),
  ...registryFlags,
}

/** The decoder --decode asks for, or undefined without it. */
export async function openDecoder(backend: Backend, flags: RegistryFlags & {decode?: boolean}): Promise<RecordDecoder | undefined> {
  if (!flags.decode) return undefined
  const registry = await requireRegistry(backend, flags, '--decode')
  const {RecordDecoder} = await import('../schemas/decoder.js')
  return new RecordDecoder(registry)
}

/**
 * A copy from `source` into `destination` (pipe, replay --to): when the destination is a local store that
 * is not the source's, the sink also copies the schemas its records name. Kafka's registry is the one the
 * command names; a local store is its own. Without a registry on the source side, records copy as bytes.
 */
export async function carryingSchemas(sink: RecordSink, source: Backend, destination: Backend, flags: RegistryFlags): Promise<RecordSink> {
  if (!destination.schemaRegistry || source.sameStoreAs(destination)) return sink
  const from = source.schemaRegistry ? source.schemaRegistry() : await registryFor(source, namedRegistry(flags), flags.timeout)
  if (!from) return sink
  const {SchemaCarrier, SchemaCarryingSink} = await import('../ops/schema-carry.js')
  return new SchemaCarryingSink(sink, new SchemaCarrier(from, destination.schemaRegistry()))
}

export interface RegistryFlags {
  registry?: string
  'registry-username'?: string
  'registry-ca'?: string
  broker?: string
  context?: string
  timeout?: number
}

/**
 * The registry a command names: --registry (or SPOOL_REGISTRY), else the registry of the context the
 * command uses; undefined when neither names one.
 */
export function namedRegistry(flags: RegistryFlags, env: NodeJS.ProcessEnv = process.env): RegistrySettings | undefined {
  if (flags.registry) return {url: flags.registry, username: flags['registry-username'], ca: flags['registry-ca']}
  // The same context resolveBrokerAddress picks: --context, else the current one unless -b names another backend.
  const chosen = flags.context ? selectedContext(flags.context, env) : flags.broker ? undefined : selectedContext(undefined, env)
  const registry = chosen?.context.registry
  if (!registry) return undefined
  return {...registry, username: flags['registry-username'] ?? registry.username, ca: flags['registry-ca'] ?? registry.ca}
}

/**
 * The registry for records of `backend`: the one the command names, else the local store's own. Kafka
 * without a registry has none: `undefined`, and the caller says what that means for it.
 */
export async function registryFor(backend: Backend, named: RegistrySettings | undefined, timeoutMs: number | undefined): Promise<SchemaRegistry | undefined> {
  if (named) return httpRegistry(named, timeoutMs)
  if (backend.schemaRegistry) return backend.schemaRegistry()
  return undefined
}

export async function httpRegistry(settings: RegistrySettings, timeoutMs: number | undefined, env: NodeJS.ProcessEnv = process.env): Promise<SchemaRegistry> {
  const {HttpRegistry} = await import('../schemas/http-registry.js')
  let ca: string | undefined
  if (settings.ca) {
    try {
      ca = readFileSync(settings.ca, 'utf8')
    } catch (error) {
      throw new UsageError(`cannot read --registry-ca ${settings.ca}: ${(error as Error).message}`)
    }
  }
  const password = env.SPOOL_REGISTRY_PASSWORD ?? settings.password
  return new HttpRegistry({url: settings.url, username: settings.username, password, ca, timeoutMs: timeoutMs ?? 10_000})
}

/** The registry a command needs (schema commands, produce with a schema, --decode). */
export async function requireRegistry(backend: Backend, flags: RegistryFlags, what: string): Promise<SchemaRegistry> {
  const registry = await registryFor(backend, namedRegistry(flags), flags.timeout)
  if (!registry)
    throw new UsageError(
      `${what} needs a schema registry for ${backend.location}`,
      'pass --registry URL, set SPOOL_REGISTRY, or add one to the context: spool context add NAME -b ... --registry URL --force',
    )
  return registry
}
