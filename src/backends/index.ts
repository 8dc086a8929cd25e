import {homedir} from 'node:os'
import {isAbsolute, join, resolve} from 'node:path'
import type {Backend} from '../core/backend.js'
import {UsageError} from '../core/errors.js'

// Light (no client), and produce and context add import it anyway: in the bundle's core module, where an
// import() of its own was one more file for a Kafka command to load (scripts/bundle.js).
import {type KafkaSettings, kafkaConnection} from './kafka/settings.js'
import type {StoreAccess} from './local/store-file.js'

export type BrokerAddress = {kind: 'local'; path: string} | {kind: 'kafka'; brokers: string[]; settings?: KafkaSettings}

/** $SPOOL_HOME, else $XDG_DATA_HOME/spool, else ~/.local/share/spool. */
export function spoolHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPOOL_HOME) return resolve(env.SPOOL_HOME)
  const dataHome = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share')
  return join(dataHome, 'spool')
}

export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(spoolHome(env), 'spool.db')
}

/** `file:PATH`, a bare path ending in .db, or `kafka://host:port[,host:port]`; empty means the default store. */
export function parseBrokerAddress(text: string | undefined, env: NodeJS.ProcessEnv = process.env): BrokerAddress {
  const address = text?.trim()
  if (!address) return {kind: 'local', path: defaultStorePath(env)}
  if (address.startsWith('file:')) {
    const path = address.slice('file:'.length).replace(/^\/\/(?=\/)/, '')
    if (!path) throw new UsageError("broker address 'file:' has no path", 'use file:PATH, for example file:./feeds.db')
    return {kind: 'local', path: resolve(path)}
  }
  if (address.startsWith('kafka://')) {
    const brokers = address
      .slice('kafka://'.length)
      .replace(/\/+$/, '')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean)
    if (brokers.length === 0 || brokers.some((b) => !/^[^\s/:]+:\d+$/.test(b) && !/^\[[0-9a-f:]+\]:\d+$/i.test(b)))
      throw new UsageError(`broker address '${address}' is not valid`, 'use kafka://host:port[,host:port...]')
    const port = brokers.map((b) => Number(b.slice(b.lastIndexOf(':') + 1))).find((p) => p < 1 || p > 65535)
    if (port !== undefined) throw new UsageError(`broker address '${address}' has port ${port}`, 'a port is a number from 1 to 65535')
    return {kind: 'kafka', brokers}
  }
  // A scheme spool does not know, or one of its own mistyped (kafka:/host, FILE:x.db): never a store path,
  // where it used to make a store in a directory named after it.
  if (/^[a-z][a-z0-9+.-]*:/i.test(address))
    throw new UsageError(`broker address '${address}' has an unknown scheme`, 'use file:PATH or kafka://host:port; a store path with a colon goes as file:PATH')
  if (address.endsWith('.db') || address.includes('/')) return {kind: 'local', path: resolve(address)}
  throw new UsageError(`broker address '${address}' is not valid`, 'use file:PATH or kafka://host:port[,host:port...]')
}

export interface OpenOptions {
  /** Local stores: 'read' opens read-only and creates nothing; 'write' creates the store if needed. */
  access: StoreAccess
  durable?: boolean
  /** Kafka: how long a broker may take to answer, in ms (default 10 s). */
  timeoutMs?: number
  /** Kafka produce settings from the command's flags, over the context's. */
  compression?: KafkaSettings['compression']
  acks?: KafkaSettings['acks']
}

/** The one factory: each backend's driver is imported only when an address names it. */
export async function openBackend(address: BrokerAddress, options: OpenOptions): Promise<Backend> {
  if (address.kind === 'local') {
    const {LocalBackend} = await import('./local/local-store.js')
    return new LocalBackend({path: address.path, access: options.access, durable: options.durable})
  }
  // The Kafka client (bundled into this chunk) costs ~50 ms of CPU to load: only commands that talk to Kafka pay for it.
  const {KafkaBackend} = await import('./kafka/kafka-backend.js')
  const settings = {...address.settings}
  if (options.compression) settings.compression = options.compression
  if (options.acks !== undefined) settings.acks = options.acks
  return new KafkaBackend(kafkaConnection(address.brokers, settings, process.env, options.timeoutMs))
}

export interface TopicRef {
  /** Undefined: the topic lives on the command's own backend (-b, SPOOL_BROKER or the default store). */
  address?: BrokerAddress
  topic: string
}

/**
 * A topic argument that may carry its backend, so that pipe and replay --to can bridge two:
 * `orders`, `kafka://host:9092[,host:9092]/orders`, `file:./feeds.db/orders`.
 */
export function parseTopicRef(text: string, env: NodeJS.ProcessEnv = process.env): TopicRef {
  if (text.startsWith('kafka://')) {
    const rest = text.slice('kafka://'.length)
    const slash = rest.indexOf('/')
    if (slash < 0 || slash === rest.length - 1)
      throw new UsageError(`'${text}' names a Kafka cluster but no topic`, 'write kafka://host:port/TOPIC')
    return {address: parseBrokerAddress(`kafka://${rest.slice(0, slash)}`, env), topic: rest.slice(slash + 1)}
  }
  if (text.startsWith('file:')) {
    const slash = text.lastIndexOf('/')
    if (slash <= 'file:'.length || slash === text.length - 1)
      throw new UsageError(`'${text}' names a store but no topic`, 'write file:PATH/TOPIC, e.g. file:./feeds.db/orders')
    return {address: parseBrokerAddress(text.slice(0, slash), env), topic: text.slice(slash + 1)}
  }
  return {topic: text}
}
