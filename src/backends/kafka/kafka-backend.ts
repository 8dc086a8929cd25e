import {readFileSync} from 'node:fs'
import {Admin, ConnectionPool, compressionsAlgorithms, initProducerIdV4, produceV9, protocolErrorsCodesById, Writer} from '@platformatic/kafka'
import {
  type AppendOptions,
  type AppendResult,
  type Assignment,
  type Backend,
  type GroupOffset,
  type PartitionInfo,
  partitionKey,
  type ReadOptions,
  type TopicInfo,
  type TopicSettings,
} from '../../core/backend.js'
import {crc32c} from '../../core/checksum.js'
import {errorTree, PartialAppendError, SpoolError, UnknownGroupError, UnknownTopicError, UsageError} from '../../core/errors.js'
import type {PendingBatch, RecordBatch} from '../../core/record.js'
import {type FetchedTopic, fetchRequest, KafkaRecordBatch, parseFetchResponse} from './fetch.js'
import {encodeRecordBatch, produceRequestBody, recordBodySize} from './record-batch.js'
import {COMPRESSIONS, type Compression} from './settings.js'
import {validateTopicName} from '../../core/topic-name.js'

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

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

const TIMESTAMP_LATEST = -1n
const TIMESTAMP_EARLIEST = -2n
const INTERNAL_TOPIC = /^__/
/** Bytes of records per produce request: under Kafka's default max.message.bytes with room for overhead. */
const SEND_BYTES = 512 * 1024

/** Kafka protocol error names found anywhere in a client error (they nest in `errors` arrays). */
function apiErrors(error: unknown): Set<string> {
  return new Set([...errorTree(error)].flatMap(({error: e}) => (typeof e.apiId === 'string' ? [e.apiId] : [])))
}

/** Node's error codes (ERR_TLS_*, CERT_*, ECONNREFUSED...) found anywhere in a client error. */
function nodeErrors(error: unknown): {code: string; message: string}[] {
  return [...errorTree(error)].flatMap(({error: e}) =>
    typeof e.code === 'string' && !e.code.startsWith('PLT_') ? [{code: e.code, message: typeof e.message === 'string' ? e.message : e.code}] : [],
  )
}

function messages(error: unknown): string[] {
  return [...errorTree(error)].flatMap(({error: e}) => (typeof e.message === 'string' && e.message ? [e.message] : []))
}

/**
 * Kafka (through @platformatic/kafka). Reads without --group join no consumer group: metadata, list
 * offsets and fetch, as kcat does. Groups are offsets only, committed with the admin API, as the local
 * store keeps them; a group with live members elsewhere is refused by the broker, never disturbed.
 */
export class KafkaBackend implements Backend {
  readonly kind = 'kafka' as const
  readonly atomicCommit = false
  readonly location: string
  private readonly base: ConstructorParameters<typeof Admin>[0]
  private adminClient?: Admin
  private connectionPool?: ConnectionPool
  private producerId?: {id: bigint; epoch: number}
  /** The next sequence number of each partition this backend produces to (idempotent produce). */
  private readonly sequences = new Map<string, number>()
  /** How long a broker may take to answer, ms. */
  private readonly timeoutMs: number

  constructor(private readonly connection: KafkaConnection) {
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
    this.base = {
      clientId: 'spool',
      bootstrapBrokers: connection.brokers,
      connectTimeout: Math.min(timeout, 5000),
      requestTimeout: timeout,
      timeout,
      // One retry after a short pause: a broker that is down fails the command in about `timeout`, not minutes.
      retries: 1,
      retryDelay: 250,
      ...(tls ? {tls} : {}),
      ...(connection.sasl ? {sasl: {mechanism: connection.sasl.mechanism, username: connection.sasl.username, password: connection.sasl.password}} : {}),
    }
  }

  private get admin(): Admin {
    return (this.adminClient ??= new Admin(this.base))
  }

  async connect(): Promise<void> {
    await this.call('connecting', () => this.admin.metadata({topics: []}))
  }

  sameStoreAs(other: Backend): boolean {
    return other instanceof KafkaBackend && [...other.connection.brokers].sort().join(',') === [...this.connection.brokers].sort().join(',')
  }

  /**
   * Runs a client call within the timeout, turning the client's errors into one line a user can act on.
   * The deadline is spool's own: the client's retries each wait for their own timeouts (a broker that
   * accepts connections and never answers took 8.8 s to fail with a 2 s timeout and one retry).
   */
  private async call<T>(what: string, fn: () => Promise<T>, topic?: string): Promise<T> {
    const pending = fn()
    pending.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${this.timeoutMs} ms`), {code: 'ETIMEDOUT'})), this.timeoutMs + 500)
      timer.unref()
    })
    try {
      return await Promise.race([pending, deadline])
    } catch (error) {
      throw this.translate(error, what, topic)
    } finally {
      clearTimeout(timer)
    }
  }

  private translate(error: unknown, what: string, topic?: string): Error {
    if (error instanceof SpoolError) return error
    const codes = apiErrors(error)
    const text = messages(error)
    const named = text.map((m) => /^Unknown topic (.+)\.$/.exec(m)?.[1]).find((n) => n !== undefined)
    if (topic && (codes.has('UNKNOWN_TOPIC_OR_PARTITION') || codes.has('UNKNOWN_TOPIC_ID') || named !== undefined))
      return new UnknownTopicError(named ?? topic, this.location)
    if (codes.has('SASL_AUTHENTICATION_FAILED') || text.some((m) => /authentication/i.test(m)))
      return new SpoolError(`authentication to ${this.location} failed: ${text.find((m) => /auth/i.test(m)) ?? 'credentials refused'}`, {
        hint: 'check the user, password and mechanism (spool context list shows what is in use)',
        cause: error,
      })
    const tlsFailure = nodeErrors(error).find((e) => /^ERR_TLS|^ERR_SSL|CERT|UNABLE_TO_VERIFY|SELF_SIGNED|DEPTH_ZERO/.test(e.code))
    if (tlsFailure)
      return new SpoolError(`TLS with ${this.connection.brokers.join(',')} failed: ${tlsFailure.message}`, {
        hint: 'a private CA needs --tls-ca; the broker certificate must name the host in the address',
        cause: error,
      })
    if (this.connection.tls?.cert === undefined && this.connection.tls && text.some((m) => /Connection closed/.test(m)))
      return new SpoolError(`the TLS connection to ${this.connection.brokers.join(',')} was closed by the broker (${what})`, {
        hint: 'it may require a client certificate: --tls-cert and --tls-key',
        cause: error,
      })
    if (text.some((m) => /Cannot connect to any broker|Connection closed|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|timed out|Timeout/i.test(m)))
      return new SpoolError(`cannot reach Kafka at ${this.connection.brokers.join(',')} (${what})`, {
        hint: 'is the broker running and the address right? --timeout sets how long to wait',
        cause: error,
      })
    const detail = [...codes].join(', ') || text.filter((m) => !/failed \d+ times|Received response with error/.test(m)).at(-1) || text[0] || String(error)
    return new SpoolError(`Kafka ${what} failed: ${detail}`, {cause: error})
  }

  async createTopic(name: string, settings: TopicSettings): Promise<TopicInfo> {
    validateTopicName(name)
    const configs: {name: string; value: string}[] = []
    if (settings.retentionMs !== undefined) configs.push({name: 'retention.ms', value: String(settings.retentionMs)})
    if (settings.retentionBytes !== undefined) configs.push({name: 'retention.bytes', value: String(settings.retentionBytes)})
    for (const [key, value] of Object.entries(settings.configs ?? {})) configs.push({name: key, value})
    try {
      await this.admin.createTopics({topics: [name], partitions: settings.partitions, replicas: settings.replicationFactor ?? -1, configs})
    } catch (error) {
      if (apiErrors(error).has('TOPIC_ALREADY_EXISTS')) throw new SpoolError(`topic '${name}' already exists in ${this.location}`)
      if (apiErrors(error).has('INVALID_REPLICATION_FACTOR'))
        throw new UsageError(`replication factor ${settings.replicationFactor} is more than ${this.location} has brokers`)
      throw this.translate(error, `creating topic '${name}'`)
    }
    return this.waitForTopic(name)
  }

  /** A new topic takes a moment to reach every broker's metadata and get leaders. */
  private async waitForTopic(name: string): Promise<TopicInfo> {
    const deadline = Date.now() + this.timeoutMs
    for (;;) {
      try {
        return await this.describeTopic(name)
      } catch (error) {
        if (Date.now() > deadline) throw error
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  }

  async listTopics(): Promise<TopicInfo[]> {
    const names = (await this.call('listing topics', () => this.admin.listTopics())).filter((n) => !INTERNAL_TOPIC.test(n)).sort()
    try {
      return await this.describeTopics(names)
    } catch (error) {
      if (!(error instanceof UnknownTopicError)) throw error
    }
    // A topic was deleted between the listing and its description: describe one by one, skipping it.
    const described = await Promise.all(
      names.map((name) =>
        this.describeTopic(name).catch((error: unknown) => {
          if (error instanceof UnknownTopicError) return undefined
          throw error
        }),
      ),
    )
    return described.filter((t): t is TopicInfo => t !== undefined)
  }

  /** Metadata of the topics, in their order; UnknownTopicError for one the cluster does not have. */
  private async topicsMetadata(names: string[], forceUpdate = false) {
    const metadata = await this.call(`reading metadata of '${names.join("', '")}'`, () => this.admin.metadata({topics: names, forceUpdate}), names[0])
    const topics = names.map((name) => {
      const topic = metadata.topics.get(name)
      if (!topic) throw new UnknownTopicError(name, this.location)
      return topic
    })
    return {metadata, topics}
  }

  private async topicMetadata(name: string, forceUpdate = false) {
    const {metadata, topics} = await this.topicsMetadata([name], forceUpdate)
    return {metadata, topic: topics[0]!}
  }

  async describeTopic(name: string): Promise<TopicInfo> {
    return (await this.describeTopics([name]))[0]!
  }

  /**
   * Several topics in five requests whatever their number (metadata, earliest and latest offsets,
   * configs, log-dir sizes), so that `topic list` and `spool top` stay cheap on a cluster of many topics.
   */
  private async describeTopics(names: string[]): Promise<TopicInfo[]> {
    if (names.length === 0) return []
    const topics = (await this.topicsMetadata(names, true)).topics.map((topic, i) => {
      const name = names[i]!
      if (topic.partitions.some((p) => p === undefined || p.leader < 0)) throw new SpoolError(`topic '${name}' has partitions without a leader in ${this.location}`)
      return {name, topic, indexes: Array.from({length: topic.partitionsCount}, (_, i) => i)}
    })
    const partitions = topics.map((t) => ({name: t.name, partitions: t.indexes}))
    const [starts, ends, configs, sizes] = await Promise.all([
      this.listOffsets(partitions, TIMESTAMP_EARLIEST),
      this.listOffsets(partitions, TIMESTAMP_LATEST),
      this.call('reading topic configurations', () =>
        this.admin.describeConfigs({resources: names.map((name) => ({resourceType: 2 as const, resourceName: name, configurationKeys: ['retention.ms', 'retention.bytes']}))}),
      ),
      this.partitionSizes(partitions),
    ])
    return topics.map(({name, topic, indexes}) => {
      const config = new Map(configs.find((c) => c.resourceName === name)?.configs.map((c) => [c.name, c.value]) ?? [])
      const limit = (key: string) => {
        const value = Number(config.get(key) ?? -1)
        return value >= 0 ? value : undefined
      }
      return {
        name,
        partitions: topic.partitionsCount,
        retentionMs: limit('retention.ms'),
        retentionBytes: limit('retention.bytes'),
        replicationFactor: topic.partitions[0]?.replicas.length,
        partitionInfo: indexes.map(
          (p): PartitionInfo => {
            const key = partitionKey(name, p)
            return {partition: p, start: starts.get(key) ?? 0, end: ends.get(key) ?? 0, bytes: sizes.get(key) ?? 0}
          },
        ),
      }
    })
  }

  /** Bytes on disk per partition, from the brokers' log directories (0 where a broker will not say). */
  private async partitionSizes(topics: {name: string; partitions: number[]}[]): Promise<Map<string, number>> {
    const sizes = new Map<string, number>()
    try {
      const brokers = await this.admin.describeLogDirs({topics})
      for (const broker of brokers)
        for (const dir of broker.results)
          for (const topic of dir.topics)
            for (const p of topic.partitions) {
              const key = partitionKey(topic.name, p.partitionIndex)
              sizes.set(key, (sizes.get(key) ?? 0) + Number(p.partitionSize))
            }
    } catch {
      // Sizes are a nicety: a broker that refuses DescribeLogDirs (ACLs) still lists and describes topics.
    }
    return sizes
  }

  /** The offsets at `timestamp` (or TIMESTAMP_EARLIEST / _LATEST) of the topics' partitions, by partitionKey. */
  private async listOffsets(topics: {name: string; partitions: number[]}[], timestamp: bigint): Promise<Map<string, number>> {
    const listed = await this.call(
      `listing offsets of '${topics.map((t) => t.name).join("', '")}'`,
      () => this.admin.listOffsets({topics: topics.map((t) => ({name: t.name, partitions: t.partitions.map((partitionIndex) => ({partitionIndex, timestamp}))}))}),
      topics[0]?.name,
    )
    const offsets = new Map<string, number>()
    for (const t of listed) for (const p of t.partitions) offsets.set(partitionKey(t.name, p.partitionIndex), Number(p.offset))
    return offsets
  }

  async deleteTopic(name: string): Promise<void> {
    await this.topicMetadata(name)
    await this.call(`deleting topic '${name}'`, () => this.admin.deleteTopics({topics: [name]}), name)
  }

  async append(topic: string, batches: PendingBatch[], options: AppendOptions = {}): Promise<AppendResult> {
    if (options.commit) throw new SpoolError('Kafka cannot commit group offsets in the same transaction as records written with spool')
    let created = false
    let found: Awaited<ReturnType<KafkaBackend['topicMetadata']>>
    try {
      found = await this.topicMetadata(topic)
    } catch (error) {
      if (!(error instanceof UnknownTopicError) || !options.createWith) throw error
      await this.createTopic(topic, options.createWith)
      found = await this.topicMetadata(topic, true)
      created = true
    }
    const {metadata, topic: meta} = found
    for (const batch of batches)
      if (batch.partition >= meta.partitionsCount) throw new SpoolError(`topic '${topic}' has no partition ${batch.partition} (it has ${meta.partitionsCount})`)
    const acks = this.connection.acks ?? -1
    const codec = this.connection.compression && this.connection.compression !== 'none' ? this.connection.compression : undefined
    const compression = codec
      ? {bits: COMPRESSIONS.indexOf(codec), compress: (data: Buffer) => compressionsAlgorithms[codec].compressSync(data) as Buffer}
      : undefined
    // With acks=all spool produces idempotently: requests are pipelined, and the broker stores a
    // partition's batches only in sequence, so a refused batch is never followed by a stored one and what
    // is stored is always a prefix. With acks 0 or 1 requests go one at a time for the same reason.
    const idempotent = acks === -1
    const producer = idempotent ? await this.producerIdentity(metadata) : undefined
    const window = idempotent ? 4 : 1
    const inFlight: {promise: Promise<void>; count: number}[] = []
    let acknowledged = 0
    let failure: unknown
    const settleOldest = async () => {
      const oldest = inFlight.shift()!
      try {
        await oldest.promise
        if (failure === undefined) acknowledged += oldest.count
      } catch (error) {
        failure ??= error
      }
    }
    try {
      for (const batch of batches) {
        const leader = meta.partitions[batch.partition]!.leader
        const broker = metadata.brokers.get(leader)
        if (!broker) throw new SpoolError(`partition ${batch.partition} of '${topic}' has no reachable leader`)
        const sequenceKey = partitionKey(topic, batch.partition)
        // Pieces well under max.message.bytes (1 MiB by default).
        let from = 0
        while (from < batch.count && failure === undefined) {
          let to = from
          let bytes = 0
          while (to < batch.count && (to === from || bytes < SEND_BYTES)) bytes += recordBodySize(batch, to, batch.timestamps[from]!, to++ - from) + 5
          let identity
          if (producer) {
            const baseSequence = this.sequences.get(sequenceKey) ?? 0
            this.sequences.set(sequenceKey, (baseSequence + (to - from)) % 0x80000000)
            identity = {...producer, baseSequence}
          }
          const records = encodeRecordBatch(batch, from, to, crc32c, compression, identity)
          const body = produceRequestBody(topic, acks, this.timeoutMs, [{partition: batch.partition, records}])
          const promise = this.sendProduce(broker, body, acks === 0)
          promise.catch(() => {})
          inFlight.push({promise, count: to - from})
          if (inFlight.length >= window) await settleOldest()
          from = to
        }
      }
      while (inFlight.length > 0) await settleOldest()
      if (failure !== undefined) throw this.translate(failure, `producing to '${topic}'`, topic)
    } catch (error) {
      while (inFlight.length > 0) await settleOldest()
      const translated = this.translate(error, `producing to '${topic}'`, topic)
      // Part of this append may be stored: say so, since Kafka has no transaction here.
      if (acknowledged > 0 && translated instanceof SpoolError) throw new PartialAppendError(translated.message, acknowledged, {hint: translated.hint, cause: error})
      throw translated
    }
    return {count: acknowledged, created}
  }

  /** A producer id for idempotent produce, asked once per backend (InitProducerId, v4). */
  private async producerIdentity(metadata: {brokers: Map<number, {host: string; port: number}>}): Promise<{id: bigint; epoch: number}> {
    if (this.producerId) return this.producerId
    const connection = await this.call('connecting', () => this.pool.getFirstAvailable([...metadata.brokers.values()]))
    // The first producer of a new cluster finds the transaction coordinator still loading: wait for it.
    const deadline = Date.now() + this.timeoutMs
    let response
    for (;;) {
      try {
        response = await initProducerIdV4.api.async(connection, null, 60_000, -1n, -1)
        break
      } catch (error) {
        const codes = apiErrors(error)
        const retriable = ['COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'].some((c) => codes.has(c))
        if (!retriable || Date.now() > deadline) throw this.translate(error, 'asking for a producer id')
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    this.producerId = {id: response.producerId, epoch: response.producerEpoch}
    return this.producerId
  }

  private get pool(): ConnectionPool {
    return (this.connectionPool ??= new ConnectionPool('spool', this.base))
  }

  /** Sends one request on the pooled connection to `broker` and resolves with the parsed response. */
  private async request<T>(broker: {host: string; port: number}, apiKey: number, apiVersion: number, payload: () => unknown, parse: unknown): Promise<T> {
    const connection = await this.pool.get(broker)
    return new Promise((resolve, reject) => {
      connection.send(apiKey, apiVersion, payload as never, parse as never, true, true, (error: Error | null, response: unknown) =>
        error ? reject(error) : resolve(response as T),
      )
    })
  }

  /** Sends one Produce request (v9) to a partition leader and resolves when the broker has answered. */
  private async sendProduce(broker: {host: string; port: number}, body: Buffer, noResponse: boolean): Promise<void> {
    const payload = Writer.create().append(body)
    if (noResponse) payload.context.noResponse = true
    await this.request(broker, 0, 9, () => payload, produceV9.parseResponse)
  }

  async offsetForTime(topic: string, partition: number, timestamp: number): Promise<number> {
    const key = partitionKey(topic, partition)
    const offset = (await this.listOffsets([{name: topic, partitions: [partition]}], BigInt(timestamp))).get(key) ?? -1
    if (offset >= 0) return offset
    return (await this.listOffsets([{name: topic, partitions: [partition]}], TIMESTAMP_LATEST)).get(key) ?? 0
  }

  async *read(assignments: Assignment[], options: ReadOptions): AsyncGenerator<RecordBatch> {
    const next = new Map<Assignment, number>(assignments.map((a) => [a, a.from]))
    const live = () => assignments.filter((a) => a.until === undefined || next.get(a)! < a.until)
    let routes = await this.routes(assignments)
    while (!options.signal.aborted) {
      const waiting = live()
      if (waiting.length === 0) return
      const byLeader = new Map<number, Assignment[]>()
      for (const a of waiting) {
        const leader = routes.leaders.get(partitionKey(a.topic, a.partition))
        if (leader === undefined) throw new SpoolError(`topic '${a.topic}' has no partition ${a.partition}`)
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), a])
      }
      let stale = false
      for (const [node, group] of byLeader) {
        const broker = routes.brokers.get(node)
        if (!broker) {
          stale = true
          continue
        }
        const topics = new Map<string, {topicId: string; partitions: {partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number}[]}>()
        for (const a of group) {
          if (!topics.has(a.topic)) topics.set(a.topic, {topicId: a.topic, partitions: []})
          topics.get(a.topic)!.partitions.push({partition: a.partition, fetchOffset: BigInt(next.get(a)!), partitionMaxBytes: 8 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1})
        }
        const response = await this.call('fetching records', () => this.sendFetch(broker, [...topics.values()]))
        for (const topicResponse of response) {
          for (const p of topicResponse.partitions) {
            const assignment = group.find((a) => a.topic === topicResponse.topic && a.partition === p.partitionIndex)
            if (!assignment) continue
            const offset = next.get(assignment)!
            if (p.errorCode !== 0) {
              const name = protocolErrorsCodesById[p.errorCode] ?? `error ${p.errorCode}`
              // Retention removed the records asked for: continue from the first one still there.
              if (name === 'OFFSET_OUT_OF_RANGE' && offset < p.logStartOffset) next.set(assignment, p.logStartOffset)
              else if (['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH'].includes(name)) stale = true
              else throw this.translate(Object.assign(new Error(name), {apiId: name}), `fetching ${assignment.topic}/${assignment.partition} at offset ${offset} (log start ${p.logStartOffset}, high watermark ${p.highWatermark})`, assignment.topic)
              continue
            }
            if (!p.records) continue
            const batch = new KafkaRecordBatch(assignment.topic, p.partitionIndex, p.records, offset, assignment.until)
            next.set(assignment, Math.max(offset, batch.nextOffset))
            if (batch.count > 0) yield batch
            if (batch.damage) throw batch.damage
          }
        }
      }
      if (stale) routes = await this.routes(assignments)
    }
  }

  /** Leaders of the assignments' partitions and the brokers' addresses, from fresh metadata. */
  private async routes(assignments: Assignment[]) {
    const names = [...new Set(assignments.map((a) => a.topic))]
    const {metadata, topics} = await this.topicsMetadata(names, true)
    const leaders = new Map<string, number>()
    topics.forEach((topic, i) => topic.partitions.forEach((p, index) => leaders.set(partitionKey(names[i]!, index), p.leader)))
    return {leaders, brokers: metadata.brokers}
  }

  /** One Fetch (v12) from a leader; records come back as raw bytes for KafkaRecordBatch. */
  private sendFetch(broker: {host: string; port: number}, topics: unknown[]): Promise<FetchedTopic[]> {
    return this.request(broker, 1, 12, () => fetchRequest(500, 1, 32 << 20, 0, 0, -1, topics as never, [], ''), parseFetchResponse)
  }

  async listGroups(): Promise<string[]> {
    const groups = await this.call('listing consumer groups', () => this.admin.listGroups())
    return [...groups.keys()].sort()
  }

  async groupOffsets(group: string): Promise<GroupOffset[]> {
    const result = await this.call(`reading the offsets of group '${group}'`, () => this.admin.listConsumerGroupOffsets({groups: [group]}))
    const offsets: GroupOffset[] = []
    for (const g of result)
      for (const t of g.topics)
        for (const p of t.partitions) if (p.committedOffset >= 0n) offsets.push({topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset)})
    return offsets.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  }

  async commitOffsets(group: string, offsets: GroupOffset[]): Promise<void> {
    const byTopic = new Map<string, {partition: number; offset: bigint}[]>()
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), {partition: o.partition, offset: BigInt(o.offset)}])
    try {
      await this.admin.alterConsumerGroupOffsets({groupId: group, topics: [...byTopic].map(([name, partitionOffsets]) => ({name, partitionOffsets}))})
    } catch (error) {
      const codes = apiErrors(error)
      if (codes.has('UNKNOWN_MEMBER_ID') || codes.has('ILLEGAL_GENERATION') || codes.has('REBALANCE_IN_PROGRESS') || codes.has('NON_EMPTY_GROUP'))
        throw new SpoolError(`consumer group '${group}' has active members in ${this.location}; spool commits only for groups nobody else is consuming with`, {
          hint: 'stop the other consumers of the group, or use another group name',
          cause: error,
        })
      throw this.translate(error, `committing offsets of group '${group}'`)
    }
  }

  async deleteGroup(group: string): Promise<void> {
    if (!(await this.listGroups()).includes(group)) throw new UnknownGroupError(group, this.location)
    await this.call(`deleting group '${group}'`, () => this.admin.deleteGroups({groups: [group]}))
  }

  async close(): Promise<void> {
    await Promise.all([this.adminClient?.close(), this.connectionPool?.close()].map((p) => p?.catch(() => {})))
  }
}
