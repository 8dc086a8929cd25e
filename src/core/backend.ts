import type {ImportingRegistry} from '../schemas/registry.js'
import type {Outage} from './outage.js'
import type {PartitionRange} from './positions.js'
import type {PendingBatch, RecordBatch} from './record.js'

export interface TopicSettings {
  partitions: number
  /** Milliseconds; undefined keeps records forever. */
  retentionMs?: number
  /** Bytes per partition, as Kafka's retention.bytes; undefined for no limit. */
  retentionBytes?: number
  /** Copies of each partition (Kafka); undefined: the cluster's default. */
  replicationFactor?: number
  /** Further topic configs by Kafka name (cleanup.policy, max.message.bytes...); Kafka only. */
  configs?: Record<string, string>
}

export interface PartitionInfo extends PartitionRange {
  partition: number
  bytes: number
  /** Timestamps of the oldest and newest stored records, when the backend knows them cheaply. */
  firstTimestamp?: number
  lastTimestamp?: number
}

export interface TopicInfo extends TopicSettings {
  name: string
  partitionInfo: PartitionInfo[]
  createdAt?: number
}

/** What one read covers: a partition from an offset, up to an exclusive offset or, without one, forever. */
export interface Assignment {
  topic: string
  partition: number
  from: number
  /** Exclusive. Undefined means no end: the reader follows the partition. */
  until?: number
}

/** One map key for a topic's partition. */
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

export interface ReadOptions {
  signal: AbortSignal
  /** Wait for new records at the end of unbounded assignments instead of returning. */
  follow?: boolean
  /** Records a reader asks for at most per batch; backends may return fewer. */
  maxBatchRecords?: number
  /** Waits out outages of a remote backend instead of failing (following reads, -f). */
  outage?: Outage
}

/** A consumer group's position in one partition: the offset of the next record it will read. */
export interface GroupOffset {
  topic: string
  partition: number
  offset: number
}

export interface AppendOptions {
  /** Creates the topic with these settings when it does not exist. */
  createWith?: TopicSettings
  /**
   * Commits these group offsets in the same transaction as the records (exactly-once copies between
   * topics of one store). Only for backends whose `atomicCommit` is true.
   */
  commit?: {group: string; offsets: GroupOffset[]}
}

export interface AppendResult {
  /** Records committed, over all batches. */
  count: number
  /** The topic was created by this append. */
  created: boolean
}

/**
 * The contract every backend keeps (test/contract runs one suite against each). All methods are async so
 * that the local store and Kafka look the same to the operations in src/ops.
 */
export interface Backend {
  readonly kind: 'local' | 'kafka'
  /** A human name for where records live, used in messages. */
  readonly location: string
  /** Whether append() can commit group offsets atomically with the records it writes. */
  readonly atomicCommit: boolean
  /** True when `other` stores its records in the same place, so one transaction can span both. */
  sameStoreAs(other: Backend): boolean

  createTopic(name: string, settings: TopicSettings): Promise<TopicInfo>
  listTopics(): Promise<TopicInfo[]>
  /** Throws UnknownTopicError. */
  describeTopic(name: string): Promise<TopicInfo>
  deleteTopic(name: string): Promise<void>

  /**
   * Commits the batches (each bound to one partition of `topic`): after it resolves they are stored and have
   * dense offsets. The local store is atomic (a rejection stores none); Kafka has no transaction across
   * produce requests, so a rejection after part was stored is a PartialAppendError that says how much.
   */
  append(topic: string, batches: PendingBatch[], options?: AppendOptions): Promise<AppendResult>

  /** First offset in the partition whose timestamp is >= timestamp, or the end offset when there is none. */
  offsetForTime(topic: string, partition: number, timestamp: number): Promise<number>

  /**
   * Reads the assignments, interleaving partitions; returns when every bounded assignment is done.
   * Assignments without `until` are followed until the signal aborts.
   */
  read(assignments: Assignment[], options: ReadOptions): AsyncIterable<RecordBatch>

  /** Names of the consumer groups that have committed offsets. */
  listGroups(): Promise<string[]>
  /** A group's committed offsets; empty for a group that has none. */
  groupOffsets(group: string): Promise<GroupOffset[]>
  /** Stores the offsets as the group's position (the next offset to read) for those partitions. */
  commitOffsets(group: string, offsets: GroupOffset[]): Promise<void>
  /** Forgets a group and all its offsets; throws UnknownGroupError for a group with none. */
  deleteGroup(group: string): Promise<void>

  /** The local store keeps schemas itself: its registry (Kafka's lives elsewhere, named by the command). */
  schemaRegistry?(): ImportingRegistry

  /** Reaches the backend once, so that a command fails early and a terminal can show the wait; optional. */
  connect?(): Promise<void>

  close(): Promise<void>
}
