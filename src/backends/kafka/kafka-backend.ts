import {readFileSync} from 'node:fs'
import {Admin, Consumer, type MessageToProduce, Producer} from '@platformatic/kafka'
import type {AppendOptions, AppendResult, Assignment, Backend, GroupOffset, PartitionInfo, ReadOptions, TopicInfo, TopicSettings} from '../../core/backend.js'
import {SpoolError, UnknownGroupError, UnknownTopicError, UsageError} from '../../core/errors.js'
import {ArrayRecordBatch, type FeedRecord, type PendingBatch, type RecordBatch} from '../../core/record.js'
import {validateTopicName} from '../../core/topic-name.js'

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

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
/** Control records (transaction markers) are Kafka's bookkeeping, never user data. */
const CONTROL_BATCH = 0x20
const INTERNAL_TOPIC = /^__/

/** Kafka protocol error names found anywhere in a client error (they nest in `errors` arrays). */
function apiErrors(error: unknown, found = new Set<string>()): Set<string> {
  if (error && typeof error === 'object') {
    const e = error as {apiId?: string; errors?: unknown[]; cause?: unknown}
    if (typeof e.apiId === 'string') found.add(e.apiId)
    for (const inner of e.errors ?? []) apiErrors(inner, found)
    if (e.cause) apiErrors(e.cause, found)
  }
  return found
}

/** Node's error codes (ERR_TLS_*, CERT_*, ECONNREFUSED...) found anywhere in a client error. */
function nodeErrors(error: unknown, found: {code: string; message: string}[] = [], depth = 0): {code: string; message: string}[] {
  if (error && typeof error === 'object' && depth < 10) {
    const e = error as {code?: unknown; message?: string; errors?: unknown[]; cause?: unknown}
    if (typeof e.code === 'string' && !e.code.startsWith('PLT_')) found.push({code: e.code, message: e.message ?? e.code})
    for (const inner of e.errors ?? []) nodeErrors(inner, found, depth + 1)
    if (e.cause) nodeErrors(e.cause, found, depth + 1)
  }
  return found
}

function messages(error: unknown, found: string[] = []): string[] {
  if (error && typeof error === 'object') {
    const e = error as {message?: string; errors?: unknown[]; cause?: unknown}
    if (e.message) found.push(e.message)
    for (const inner of e.errors ?? []) messages(inner, found)
    if (e.cause) messages(e.cause, found)
  }
  return found
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
  private producerClient?: Producer
  private consumerClient?: Consumer

  constructor(private readonly connection: KafkaConnection) {
    this.location = `kafka://${connection.brokers.join(',')}`
    const timeout = connection.timeoutMs ?? 10_000
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

  private get producer(): Producer {
    return (this.producerClient ??= new Producer({...this.base, acks: this.connection.acks ?? -1, autocreateTopics: false}))
  }

  private get consumer(): Consumer {
    // The group id is required by the client's constructor; fetch, listOffsets and metadata never use it.
    return (this.consumerClient ??= new Consumer({...this.base, groupId: 'spool-no-group'}))
  }

  sameStoreAs(other: Backend): boolean {
    return other instanceof KafkaBackend && [...other.connection.brokers].sort().join(',') === [...this.connection.brokers].sort().join(',')
  }

  /** Runs a client call, turning the client's errors into one line a user can act on. */
  private async call<T>(what: string, fn: () => Promise<T>, topic?: string): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw this.translate(error, what, topic)
    }
  }

  private translate(error: unknown, what: string, topic?: string): Error {
    if (error instanceof SpoolError) return error
    const codes = apiErrors(error)
    const text = messages(error)
    if (topic && (codes.has('UNKNOWN_TOPIC_OR_PARTITION') || codes.has('UNKNOWN_TOPIC_ID') || text.some((m) => m.startsWith('Unknown topic'))))
      return new UnknownTopicError(topic, this.location)
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
    const deadline = Date.now() + (this.connection.timeoutMs ?? 10_000)
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
    return Promise.all(names.map((name) => this.describeTopic(name)))
  }

  private async topicMetadata(name: string, forceUpdate = false) {
    const metadata = await this.call(`reading metadata of '${name}'`, () => this.admin.metadata({topics: [name], forceUpdate}), name)
    const topic = metadata.topics.get(name)
    if (!topic) throw new UnknownTopicError(name, this.location)
    return {metadata, topic}
  }

  async describeTopic(name: string): Promise<TopicInfo> {
    const {topic} = await this.topicMetadata(name, true)
    if (topic.partitions.some((p) => p === undefined || p.leader < 0)) throw new SpoolError(`topic '${name}' has partitions without a leader in ${this.location}`)
    const partitions = topic.partitionsCount
    const indexes = Array.from({length: partitions}, (_, i) => i)
    const [starts, ends, configs, sizes] = await Promise.all([
      this.listOffsets(name, indexes, TIMESTAMP_EARLIEST),
      this.listOffsets(name, indexes, TIMESTAMP_LATEST),
      this.call(`reading the configuration of '${name}'`, () =>
        this.admin.describeConfigs({resources: [{resourceType: 2, resourceName: name, configurationKeys: ['retention.ms', 'retention.bytes']}]}),
      ),
      this.partitionSizes(name, indexes),
    ])
    const config = new Map(configs[0]?.configs.map((c) => [c.name, c.value]) ?? [])
    const limit = (key: string) => {
      const value = Number(config.get(key) ?? -1)
      return value >= 0 ? value : undefined
    }
    const partitionInfo: PartitionInfo[] = indexes.map((p) => ({partition: p, start: starts.get(p) ?? 0, end: ends.get(p) ?? 0, bytes: sizes.get(p) ?? 0}))
    return {
      name,
      partitions,
      retentionMs: limit('retention.ms'),
      retentionBytes: limit('retention.bytes'),
      replicationFactor: topic.partitions[0]?.replicas.length,
      partitionInfo,
    }
  }

  /** Bytes on disk per partition, from the brokers' log directories (0 where a broker will not say). */
  private async partitionSizes(name: string, partitions: number[]): Promise<Map<number, number>> {
    const sizes = new Map<number, number>()
    try {
      const brokers = await this.admin.describeLogDirs({topics: [{name, partitions}]})
      for (const broker of brokers)
        for (const dir of broker.results)
          for (const topic of dir.topics)
            if (topic.name === name) for (const p of topic.partitions) sizes.set(p.partitionIndex, (sizes.get(p.partitionIndex) ?? 0) + Number(p.partitionSize))
    } catch {
      // Sizes are a nicety: a broker that refuses DescribeLogDirs (ACLs) still lists and describes topics.
    }
    return sizes
  }

  private async listOffsets(topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, number>> {
    const listed = await this.call(
      `listing offsets of '${topic}'`,
      () => this.admin.listOffsets({topics: [{name: topic, partitions: partitions.map((partitionIndex) => ({partitionIndex, timestamp}))}]}),
      topic,
    )
    const offsets = new Map<number, number>()
    for (const t of listed) for (const p of t.partitions) offsets.set(p.partitionIndex, Number(p.offset))
    return offsets
  }

  async deleteTopic(name: string): Promise<void> {
    await this.topicMetadata(name)
    await this.call(`deleting topic '${name}'`, () => this.admin.deleteTopics({topics: [name]}), name)
  }

  async append(topic: string, batches: PendingBatch[], options: AppendOptions = {}): Promise<AppendResult> {
    if (options.commit) throw new SpoolError('Kafka cannot commit group offsets in the same transaction as records written with spool')
    let created = false
    let partitions: number
    try {
      partitions = (await this.topicMetadata(topic)).topic.partitionsCount
    } catch (error) {
      if (!(error instanceof UnknownTopicError) || !options.createWith) throw error
      const settings = options.growPartitions
        ? {...options.createWith, partitions: Math.max(options.createWith.partitions, ...batches.map((b) => b.partition + 1))}
        : options.createWith
      partitions = (await this.createTopic(topic, settings)).partitions
      created = true
    }
    for (const batch of batches)
      if (batch.partition >= partitions) throw new SpoolError(`topic '${topic}' has no partition ${batch.partition} (it has ${partitions})`)
    const messagesToSend: MessageToProduce[] = []
    for (const batch of batches)
      for (let i = 0; i < batch.count; i++) {
        const headers = batch.headers?.[i]
        messagesToSend.push({
          topic,
          partition: batch.partition,
          key: batch.keys?.[i] ?? undefined,
          value: batch.values[i] as Buffer,
          timestamp: BigInt(batch.timestamps[i]!),
          // Buffer keys are distinct Map keys even when equal, so duplicate header names keep their order.
          headers: headers ? new Map(headers.map((h) => [Buffer.from(h.key), h.value as Buffer])) : undefined,
        })
      }
    if (messagesToSend.length === 0) return {count: 0, created}
    await this.call(
      `producing to '${topic}'`,
      () => this.producer.send({messages: messagesToSend, ...(this.connection.compression && this.connection.compression !== 'none' ? {compression: this.connection.compression} : {})}),
      topic,
    )
    return {count: messagesToSend.length, created}
  }

  async offsetForTime(topic: string, partition: number, timestamp: number): Promise<number> {
    const offset = (await this.listOffsets(topic, [partition], BigInt(timestamp))).get(partition) ?? -1
    if (offset >= 0) return offset
    return (await this.listOffsets(topic, [partition], TIMESTAMP_LATEST)).get(partition) ?? 0
  }

  async *read(assignments: Assignment[], options: ReadOptions): AsyncGenerator<RecordBatch> {
    const next = new Map<Assignment, number>(assignments.map((a) => [a, a.from]))
    const live = () => assignments.filter((a) => a.until === undefined || next.get(a)! < a.until)
    const metadataOf = new Map<string, Awaited<ReturnType<KafkaBackend['topicMetadata']>>['topic']>()
    for (const a of assignments) if (!metadataOf.has(a.topic)) metadataOf.set(a.topic, (await this.topicMetadata(a.topic)).topic)
    const topicNames = new Map([...metadataOf].map(([name, t]) => [t.id, name]))
    while (!options.signal.aborted) {
      const waiting = live()
      if (waiting.length === 0) return
      const byLeader = new Map<number, Assignment[]>()
      for (const a of waiting) {
        const leader = metadataOf.get(a.topic)!.partitions[a.partition]?.leader
        if (leader === undefined) throw new SpoolError(`topic '${a.topic}' has no partition ${a.partition}`)
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), a])
      }
      for (const [node, group] of byLeader) {
        const topics = new Map<string, {topicId: string; partitions: {partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number}[]}>()
        for (const a of group) {
          const id = metadataOf.get(a.topic)!.id
          if (!topics.has(id)) topics.set(id, {topicId: id, partitions: []})
          topics.get(id)!.partitions.push({partition: a.partition, fetchOffset: BigInt(next.get(a)!), partitionMaxBytes: 4 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1})
        }
        const response = await this.call('fetching records', () =>
          this.consumer.fetch({node, topics: [...topics.values()], maxWaitTime: 500, minBytes: 1, maxBytes: 16 << 20}),
        )
        for (const topicResponse of response.responses) {
          const topic = topicNames.get(topicResponse.topicId)!
          for (const p of topicResponse.partitions) {
            if (p.errorCode !== 0) throw this.translate(Object.assign(new Error(`fetch error ${p.errorCode}`), {}), `fetching ${topic}/${p.partitionIndex}`, topic)
            const assignment = group.find((a) => a.topic === topic && a.partition === p.partitionIndex)!
            let offset = next.get(assignment)!
            // Retention may have removed the records asked for: continue from the first one still there.
            if (offset < Number(p.logStartOffset) && (!p.records || p.records.length === 0)) {
              next.set(assignment, Number(p.logStartOffset))
              continue
            }
            const records: FeedRecord[] = []
            for (const batch of p.records ?? []) {
              const first = Number(batch.firstOffset)
              if ((batch.attributes & CONTROL_BATCH) !== 0) {
                offset = Math.max(offset, first + batch.lastOffsetDelta + 1)
                continue
              }
              for (const r of batch.records) {
                const at = first + r.offsetDelta
                if (at < offset || (assignment.until !== undefined && at >= assignment.until)) continue
                records.push({
                  topic,
                  partition: p.partitionIndex,
                  offset: at,
                  timestamp: Number(batch.firstTimestamp + r.timestampDelta),
                  key: r.key,
                  value: r.value,
                  headers: r.headers.map(([k, v]) => ({key: k?.toString('utf8') ?? '', value: v})),
                })
              }
              offset = Math.max(offset, first + batch.lastOffsetDelta + 1)
            }
            if (assignment.until !== undefined) offset = Math.min(offset, assignment.until)
            next.set(assignment, offset)
            if (records.length > 0) yield new ArrayRecordBatch(topic, p.partitionIndex, records)
          }
        }
      }
    }
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
    await Promise.all([this.adminClient?.close(), this.producerClient?.close(), this.consumerClient?.close()].map((p) => p?.catch(() => {})))
  }
}
