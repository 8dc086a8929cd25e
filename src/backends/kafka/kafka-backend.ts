import type {
  AppendOptions,
  AppendResult,
  Assignment,
  Backend,
  GroupOffset,
  ReadOptions,
  TopicInfo,
  TopicChanges,
  TopicSettings,
} from '../../core/backend.js'
import {SpoolError, TopicExistsError, UnknownTopicError} from '../../core/errors.js'
import type {PendingBatch, RecordBatch} from '../../core/record.js'
import {KafkaAdmin} from './admin.js'
import {KafkaClient} from './client.js'
import {fetchRecords} from './fetcher.js'
import {KafkaProducer, SEND_BYTES} from './producer.js'
import {KafkaRecordsLayout} from './record-batch.js'
import type {KafkaConnection} from './settings.js'
import {capYoungGeneration} from '../../core/young-generation.js'

/**
 * Kafka (through @platformatic/kafka). Reads without --group join no consumer group: metadata, list
 * offsets and fetch, as kcat does. Groups are offsets only, committed with the admin API, as the local
 * store keeps them; a group with live members elsewhere is refused by the broker, never disturbed.
 *
 * By responsibility: client.ts (connection settings, error translation, the deadline), admin.ts (topics,
 * offsets, groups), producer.ts (idempotent produce), fetcher.ts (reads), wire.ts (the client internals).
 */
export class KafkaBackend implements Backend {
  readonly kind = 'kafka' as const
  readonly atomicCommit = false
  readonly location: string
  private readonly client: KafkaClient
  private readonly admin: KafkaAdmin
  private readonly producer: KafkaProducer
  private appendFailed = false
  /** Produce's plain lines are laid out as a request's records while they are split (record-batch.ts), a request's worth per batch. */
  readonly packedLayout = {batchBytes: SEND_BYTES, keys: true, create: (bytes: number, records: number) => new KafkaRecordsLayout(bytes, records)}

  constructor(private readonly connection: KafkaConnection) {
    this.client = new KafkaClient(connection)
    this.location = this.client.location
    this.admin = new KafkaAdmin(this.client)
    this.producer = new KafkaProducer(this.client)
  }

  async connect(): Promise<void> {
    await this.client.call('connecting', () => this.client.reach())
  }

  sameStoreAs(other: Backend): boolean {
    return other instanceof KafkaBackend && [...other.connection.brokers].sort().join(',') === [...this.connection.brokers].sort().join(',')
  }

  createTopic(name: string, settings: TopicSettings): Promise<TopicInfo> {
    return this.admin.createTopic(name, settings)
  }

  listTopics(): Promise<TopicInfo[]> {
    return this.admin.listTopics()
  }

  describeTopic(name: string): Promise<TopicInfo> {
    return this.admin.describeTopic(name)
  }

  /**
   * One Metadata request, with the producer id asked for on the same connection at the same time
   * (acks=all; any broker answers InitProducerId without transactions, so before any metadata a
   * bootstrap broker, whose connection connect() opened), instead of describeTopic's five requests and
   * then the id: a one-record produce is ApiVersions, Metadata with InitProducerId, Produce
   * (docs/BENCHMARKS.md, "One record to Kafka"). The metadata is cached for append.
   */
  async writePartitions(name: string): Promise<number> {
    const known = this.client.admin.currentMetadata?.brokers
    this.producer.prepare(known ? [...known.values()] : this.client.bootstrapBrokers)
    const {topic} = await this.admin.topicMetadata(name, true)
    return topic.partitionsCount
  }

  deleteTopic(name: string): Promise<void> {
    return this.admin.deleteTopic(name)
  }

  alterTopic(name: string, changes: TopicChanges): Promise<TopicInfo> {
    return this.admin.alterTopic(name, changes)
  }

  async append(topic: string, batches: PendingBatch[], options: AppendOptions = {}): Promise<AppendResult> {
    if (options.commit) throw new SpoolError('Kafka cannot commit group offsets in the same transaction as records written with spool')
    let created = false
    let found: Awaited<ReturnType<KafkaAdmin['topicMetadata']>>
    try {
      // After a failed append the leaders may have moved or the topic gone: ask the cluster, not the cache.
      found = await this.admin.topicMetadata(topic, this.appendFailed)
    } catch (error) {
      if (!(error instanceof UnknownTopicError) || !options.createWith) throw error
      try {
        await this.admin.createTopic(topic, options.createWith)
        created = true
      } catch (error) {
        // Another producer made it meanwhile: write into theirs.
        if (!(error instanceof TopicExistsError)) throw error
      }
      found = await this.admin.topicMetadata(topic, true)
    }
    const {metadata, topic: meta} = found
    for (const batch of batches)
      if (batch.partition >= meta.partitionsCount) throw new SpoolError(`topic '${topic}' has no partition ${batch.partition} (it has ${meta.partitionsCount})`)
    const leaders = meta.partitions.map((p) => (p ? metadata.brokers.get(p.leader) : undefined))
    const refresh = async () => {
      const fresh = await this.admin.topicMetadata(topic, true)
      return fresh.topic.partitions.map((p) => (p && p.leader >= 0 ? fresh.metadata.brokers.get(p.leader) : undefined))
    }
    // The producer fails over within the call; a failure it gives up on leaves this set for the next one.
    this.appendFailed = true
    capYoungGeneration()
    const count = await this.producer.send({topic, leaders, refresh}, batches, [...metadata.brokers.values()])
    this.appendFailed = false
    return {count, created}
  }

  settleAppends(): Promise<void> {
    return this.producer.settle()
  }

  offsetForTime(topic: string, partition: number, timestamp: number): Promise<number> {
    return this.admin.offsetForTime(topic, partition, timestamp)
  }

  async *read(assignments: Assignment[], options: ReadOptions): AsyncIterable<RecordBatch> {
    for await (const batch of fetchRecords(this.client, this.admin, assignments, options)) {
      capYoungGeneration()
      yield batch
    }
  }

  listGroups(): Promise<string[]> {
    return this.admin.listGroups()
  }

  groupOffsets(group: string): Promise<GroupOffset[]> {
    return this.admin.groupOffsets(group)
  }

  commitOffsets(group: string, offsets: GroupOffset[]): Promise<void> {
    return this.admin.commitOffsets(group, offsets)
  }

  checkGroupIdle(group: string): Promise<void> {
    return this.admin.checkGroupIdle(group)
  }

  deleteGroup(group: string): Promise<void> {
    return this.admin.deleteGroup(group)
  }

  close(): Promise<void> {
    return this.client.close()
  }
}
