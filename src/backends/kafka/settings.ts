import {UsageError} from '../../core/errors.js'

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

/** Everything needed to reach one cluster, as a command resolved it (context, environment, flags). */
export interface KafkaConnection {
  brokers: string[]
  sasl?: {mechanism: SaslMechanism; username: string; password: string}
  /** TLS on: a CA file to trust (else the system's), a client certificate and key for mutual TLS. */
  tls?: {ca?: string; cert?: string; key?: string; insecure?: boolean}
  /** How long a broker may take to answer before the command fails. Milliseconds. */
  timeoutMs?: number
  compression?: Compression
  /** -1 all in-sync replicas, 1 the leader, 0 none. */
  acks?: -1 | 0 | 1
}

/** How to reach a cluster beyond its addresses: what a context stores, or the environment supplies. */
export interface KafkaSettings {
  sasl?: {mechanism: SaslMechanism; username: string; password?: string}
  tls?: {ca?: string; cert?: string; key?: string; insecure?: boolean}
  timeoutMs?: number
  compression?: Compression
  acks?: -1 | 0 | 1
}

export const SASL_MECHANISMS: SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']

/** Kafka's record batch codecs, each at the number a batch's attributes give it. */
export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type Compression = (typeof COMPRESSIONS)[number]

export function saslMechanism(text: string): SaslMechanism {
  const upper = text.toUpperCase() as SaslMechanism
  if (!SASL_MECHANISMS.includes(upper)) throw new UsageError(`unknown SASL mechanism '${text}'`, `use one of ${SASL_MECHANISMS.join(', ')}`)
  return upper
}

/**
 * The connection for a command: the context's settings, overridden by the environment
 * (SPOOL_SASL_MECHANISM, SPOOL_SASL_USERNAME, SPOOL_SASL_PASSWORD, SPOOL_TLS_CA, SPOOL_TLS_CERT,
 * SPOOL_TLS_KEY, SPOOL_TLS=1, SPOOL_TIMEOUT), overridden by flags (timeout). A password is never taken
 * from the command line.
 */
export function kafkaConnection(brokers: string[], settings: KafkaSettings = {}, env: NodeJS.ProcessEnv, timeoutMs?: number): KafkaConnection {
  let sasl = settings.sasl
  if (env.SPOOL_SASL_MECHANISM || env.SPOOL_SASL_USERNAME) {
    sasl = {
      mechanism: saslMechanism(env.SPOOL_SASL_MECHANISM ?? sasl?.mechanism ?? 'PLAIN'),
      username: env.SPOOL_SASL_USERNAME ?? sasl?.username ?? '',
      password: sasl?.password,
    }
  }
  if (sasl && env.SPOOL_SASL_PASSWORD !== undefined) sasl = {...sasl, password: env.SPOOL_SASL_PASSWORD}
  if (sasl && !sasl.username) throw new UsageError('SASL needs a user name', 'set SPOOL_SASL_USERNAME or add one to the context')
  if (sasl && sasl.password === undefined)
    throw new UsageError(`SASL user '${sasl.username}' has no password`, 'set SPOOL_SASL_PASSWORD, or store it in a context: spool context add NAME --password-stdin')
  let tls = settings.tls
  if (env.SPOOL_TLS === '1' || env.SPOOL_TLS_CA || env.SPOOL_TLS_CERT || env.SPOOL_TLS_KEY)
    tls = {...tls, ca: env.SPOOL_TLS_CA ?? tls?.ca, cert: env.SPOOL_TLS_CERT ?? tls?.cert, key: env.SPOOL_TLS_KEY ?? tls?.key}
  let timeout = timeoutMs ?? settings.timeoutMs
  if (timeout === undefined && env.SPOOL_TIMEOUT) {
    timeout = Number(env.SPOOL_TIMEOUT) * 1000
    if (!(timeout > 0)) throw new UsageError(`SPOOL_TIMEOUT '${env.SPOOL_TIMEOUT}' is not a number of seconds`)
  }
  return {
    brokers,
    sasl: sasl ? {mechanism: sasl.mechanism, username: sasl.username, password: sasl.password!} : undefined,
    tls,
    timeoutMs: timeout,
    compression: settings.compression,
    acks: settings.acks,
  }
}
