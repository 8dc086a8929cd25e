import {readFileSync} from 'node:fs'
import {Admin, parseBroker} from '@platformatic/kafka'
import {errorTree, SpoolError, UnknownTopicError, UnreachableError} from '../../core/errors.js'
import type {KafkaConnection} from './settings.js'
import {askApiVersions, type Broker, KafkaWire} from './wire.js'

/** Kafka protocol error names found anywhere in a client error (they nest in `errors` arrays). */
export function apiErrors(error: unknown): Set<string> {
  return new Set([...errorTree(error)].flatMap(({error: e}) => (typeof e.apiId === 'string' ? [e.apiId] : [])))
}

/**
 * Broker answers that mean "not now" (a broker restarting, a leader moving), which waiting fixes. They
 * overlap MOVING below: call() first retries those within --timeout (failover); what is still failing
 * then becomes an UnreachableError, which a following command (-f) waits out as an outage.
 */
const NOT_SERVING = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'BROKER_NOT_AVAILABLE',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'KAFKA_STORAGE_ERROR',
])

/** Node's error codes (ERR_TLS_*, CERT_*, ECONNREFUSED...) found anywhere in a client error. */
function nodeErrors(error: unknown): {code: string; message: string}[] {
  return [...errorTree(error)].flatMap(({error: e}) =>
    typeof e.code === 'string' && !e.code.startsWith('PLT_') ? [{code: e.code, message: typeof e.message === 'string' ? e.message : e.code}] : [],
  )
}

/**
 * Protocol errors that mean the cluster is moving a partition's leader or a group's coordinator (a broker
 * died or restarted): the same request succeeds once new metadata names the new one.
 */
const MOVING = [
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  // The in-sync replicas shrank below min.insync.replicas while a dead follower is dropped or caught up.
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
]

/** A connection to one broker was refused or cut: that broker is down, not necessarily the cluster. */
function brokerGone(error: unknown): boolean {
  return (
    nodeErrors(error).some((e) => ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(e.code)) ||
    messages(error).some((m) => /Connection closed|ECONNREFUSED|ECONNRESET/.test(m))
  )
}

/** How long to wait before asking a cluster that is moving leaders again. */
export const FAILOVER_PAUSE_MS = 250

/** What a user refused by the cluster's ACLs can do about it, by the refusal's code. */
const AUTHORIZATION_HINTS: Record<string, string> = {
  GROUP_AUTHORIZATION_FAILED:
    'a consumer group needs READ on the group as well as on the topic; without one, --cursor NAME reads on and keeps its position in the local store, committing nothing to the cluster',
  TOPIC_AUTHORIZATION_FAILED: 'reading a topic needs READ and DESCRIBE on it, writing needs WRITE and DESCRIBE: ask the cluster administrator for the ACLs (kafka-acls --add)',
  CLUSTER_AUTHORIZATION_FAILED: 'this needs a permission on the cluster itself: ask the cluster administrator',
  OTHER: 'ask the cluster administrator for the ACLs this needs (kafka-acls --add)',
}

function messages(error: unknown): string[] {
  return [...errorTree(error)].flatMap(({error: e}) => (typeof e.message === 'string' && e.message ? [e.message] : []))
}

/**
 * What the parts of the Kafka backend share: the connection settings, the client's admin API and spool's
 * own wire calls, and the one place where the client's failures become a line a user can act on.
 */
export class KafkaClient {
  readonly location: string
  readonly timeoutMs: number
  readonly wire: KafkaWire
  private readonly options: ConstructorParameters<typeof Admin>[0]
  private adminClient?: Admin

  constructor(readonly connection: KafkaConnection) {
    this.location = `kafka://${connection.brokers.join(',')}`
    const timeout = (this.timeoutMs = connection.timeoutMs ?? 10_000)
    const tls = connection.tls
      ? {
          ca: connection.tls.ca ? readFileSync(connection.tls.ca) : undefined,
          cert: connection.tls.cert ? readFileSync(connection.tls.cert) : undefined,
          key: connection.tls.key ? readFileSync(connection.tls.key) : undefined,
          rejectUnauthorized: !connection.tls.insecure,
        }
      : undefined
    this.options = {
      clientId: 'spool',
      bootstrapBrokers: connection.brokers,
      connectTimeout: Math.min(timeout, 5000),
      requestTimeout: timeout,
      timeout,
      // One retry after a short pause; call() holds the whole call to the timeout.
      retries: 1,
      retryDelay: 250,
      ...(tls ? {tls} : {}),
      ...(connection.sasl ? {sasl: {mechanism: connection.sasl.mechanism, username: connection.sasl.username, password: connection.sasl.password}} : {}),
    }
    this.wire = new KafkaWire(this.options, () => this.admin.connections)
  }

  get admin(): Admin {
    return (this.adminClient ??= new Admin(this.options))
  }

  /** The brokers the connection names (--broker, the context), as the client parses them. */
  get bootstrapBrokers(): Broker[] {
    return this.connection.brokers.map((broker) => parseBroker(broker) as Broker)
  }

  /**
   * Reaches the cluster with no request of its own: a connection to a bootstrap broker (TLS and SASL
   * done) and its ApiVersions, which the client asks before its first request anyway and keeps. A
   * Metadata request here would be answered again by the command's own, which names its topics.
   */
  reach(): Promise<void> {
    return askApiVersions(this.admin)
  }

  /**
   * Runs a client call within the timeout, turning the client's errors into one line a user can act on.
   * The deadline is spool's own: the client's retries each wait for their own timeouts (a broker that
   * accepts connections and never answers took 8.8 s to fail with a 2 s timeout and one retry).
   *
   * A call that fails because the cluster is moving a leader or coordinator away from a dead broker is
   * made again on fresh metadata until the same deadline (`failover: false` for callers that must pick
   * another broker themselves: the fetcher, the producer).
   */
  async call<T>(what: string, fn: () => Promise<T>, topic?: string, {failover = true}: {failover?: boolean} = {}): Promise<T> {
    const deadline = Date.now() + this.timeoutMs
    for (;;) {
      try {
        return await this.beforeDeadline(fn, deadline)
      } catch (error) {
        if (failover && Date.now() + FAILOVER_PAUSE_MS < deadline && (await this.failingOver(error))) {
          this.adminClient?.clearMetadata()
          await new Promise((r) => setTimeout(r, FAILOVER_PAUSE_MS))
          continue
        }
        throw this.translate(error, what, topic)
      }
    }
  }

  private async beforeDeadline<T>(fn: () => Promise<T>, deadline: number): Promise<T> {
    const pending = fn()
    pending.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${this.timeoutMs} ms`), {code: 'ETIMEDOUT'})), Math.max(0, deadline - Date.now()) + 500)
      timer.unref()
    })
    try {
      return await Promise.race([pending, expired])
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Whether a failed request may succeed on fresh metadata: the cluster named a leader or coordinator
   * that has moved, or one broker refused or dropped the connection while the rest of the cluster still
   * answers. A lone broker that is down (or a wrong address) is not waited for: it fails at once.
   */
  async failingOver(error: unknown): Promise<boolean> {
    const codes = apiErrors(error)
    if (MOVING.some((c) => codes.has(c))) return true
    if (!brokerGone(error)) return false
    try {
      this.adminClient?.clearMetadata()
      const metadata = await this.beforeDeadline(() => this.admin.metadata({topics: [], forceUpdate: true}), Date.now() + Math.min(this.timeoutMs, 2000))
      return metadata.brokers.size > 1
    } catch {
      return false
    }
  }

  translate(error: unknown, what: string, topic?: string): Error {
    if (error instanceof SpoolError) return error
    const codes = apiErrors(error)
    const text = messages(error)
    const brokers = this.connection.brokers.join(',')
    const named = text.map((m) => /^Unknown topic (.+)\.$/.exec(m)?.[1]).find((n) => n !== undefined)
    if (topic && (codes.has('UNKNOWN_TOPIC_OR_PARTITION') || codes.has('UNKNOWN_TOPIC_ID') || named !== undefined))
      return new UnknownTopicError(named ?? topic, this.location)
    if (codes.has('SASL_AUTHENTICATION_FAILED') || text.some((m) => /authentication/i.test(m)))
      return new SpoolError(`authentication to ${this.location} failed: ${text.find((m) => /auth/i.test(m)) ?? 'credentials refused'}`, {
        hint: 'check the user, password and mechanism (spool context list shows what is in use)',
        cause: error,
      })
    const denied = [...codes].find((c) => c.endsWith('_AUTHORIZATION_FAILED'))
    if (denied) return new SpoolError(`${this.location} refused ${what}: not authorized (${denied})`, {hint: AUTHORIZATION_HINTS[denied] ?? AUTHORIZATION_HINTS.OTHER, cause: error})
    const tlsFailure = nodeErrors(error).find((e) => /^ERR_TLS|^ERR_SSL|CERT|UNABLE_TO_VERIFY|SELF_SIGNED|DEPTH_ZERO/.test(e.code))
    if (tlsFailure)
      return new SpoolError(`TLS with ${brokers} failed: ${tlsFailure.message}`, {
        hint: 'a private CA needs --tls-ca; the broker certificate must name the host in the address',
        cause: error,
      })
    if (this.connection.tls?.cert === undefined && this.connection.tls && text.some((m) => /Connection closed/.test(m)))
      return new SpoolError(`the TLS connection to ${brokers} was closed by the broker (${what})`, {
        hint: 'it may require a client certificate: --tls-cert and --tls-key',
        cause: error,
      })
    if (text.some((m) => /Cannot connect to any broker|Connection closed|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|timed out|Timeout/i.test(m))) {
      // Accepted, then closed, without SASL or TLS asked for: what a SASL or TLS listener does to plain requests.
      const closedOnUs = !this.connection.sasl && !this.connection.tls && text.some((m) => /Connection closed/.test(m)) && !text.some((m) => /ECONNREFUSED/.test(m))
      return new UnreachableError(`cannot reach Kafka at ${brokers} (${what})`, {
        hint: closedOnUs
          ? 'the broker closed the connection: is the address right, and does its listener want SASL (SPOOL_SASL_MECHANISM, SPOOL_SASL_USERNAME, SPOOL_SASL_PASSWORD, or a context) or TLS (--tls)?'
          : 'is the broker running and the address right? --timeout sets how long to wait',
        cause: error,
      })
    }
    if (codes.has('MESSAGE_TOO_LARGE') || codes.has('RECORD_LIST_TOO_LARGE'))
      return new SpoolError(`${this.location} refused ${what}: a record batch is larger than it takes (${codes.has('MESSAGE_TOO_LARGE') ? 'MESSAGE_TOO_LARGE' : 'RECORD_LIST_TOO_LARGE'})`, {
        hint: "a record must fit the topic's max.message.bytes (1 MB by default): raise it (spool topic alter T -c max.message.bytes=N), or keep records smaller",
        cause: error,
      })
    const notServing = [...codes].filter((c) => NOT_SERVING.has(c))
    if (notServing.length > 0) return new UnreachableError(`Kafka at ${brokers} is not serving (${what}): ${notServing.join(', ')}`, {cause: error})
    const detail = [...codes].join(', ') || text.filter((m) => !/failed \d+ times|Received response with error/.test(m)).at(-1) || text[0] || String(error)
    return new SpoolError(`Kafka ${what} failed: ${detail}`, {cause: error})
  }

  async close(): Promise<void> {
    await Promise.all([this.adminClient?.close(), this.wire.close()].map((p) => p?.catch(() => {})))
  }
}
