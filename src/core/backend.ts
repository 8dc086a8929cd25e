import type {ImportingRegistry} from '../schemas/registry.js'
import type {KeySelection} from './key-selection.js'
import type {Outage} from './outage.js'
import type {PartitionRange} from './positions.js'
import type {PackedValues, PendingBatch, RecordBatch} from './record.js'

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

/** What `topic alter` changes; fields left out stay as they are. */
export interface TopicChanges {
  /** The new partition count: only more than the topic has (records never move between partitions). */
  partitions?: number
  /** Milliseconds; NO_LIMIT (units.ts: -1, as Kafka writes it) takes the limit off: records are kept forever. */
  retentionMs?: number
  /** Bytes per partition; NO_LIMIT takes the limit off. */
  retentionBytes?: number
  /** Topic configs by Kafka name; the local store knows retention.ms and retention.bytes only. */
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
  /**
   * What tells this topic from one deleted and created again under its name (the local store's row id and
   * creation time, Kafka's topic id); undefined where the backend cannot tell.
   */
  topicId?: string
  /** The backend may not tell the retention (Kafka without DESCRIBE_CONFIGS on the topic): retentionMs and retentionBytes say nothing. */
  retentionUnknown?: boolean
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
  /**
   * Only records with one of these keys (--key). The local store finds them through its key index; Kafka
   * has none, so it reads everything and filters. Batches then hold only the selected records, with the
   * gaps between their offsets.
   */
  keys?: KeySelection
  /** Called with the records looked at, matching or not, as a filtering read goes: for progress displays. */
  onScanned?: (records: number) => void
  /** Waits out outages of a remote backend instead of failing (following reads, -f). */
  outage?: Outage
  /**
   * Following reads of whole topics (every partition, no end): how many partitions each had when the
   * read was planned. Partitions added since (topic alter -p) are read too, from their first record,
   * once the read sees them (wholeTopics in ops/read-plan.ts makes this).
   */
  addedPartitions?: ReadonlyArray<{topic: string; partitions: number}>
}

/** What a store knows of one stored batch without reading its records. */
export interface BatchSummary {
  baseOffset: number
  /** Records in the batch: offsets baseOffset to baseOffset + count - 1. */
  count: number
  minTimestamp: number
  maxTimestamp: number
}

/** A consumer group's position in one partition: the offset of the next record it will read. */
export interface GroupOffset {
  topic: string
  partition: number
  offset: number
  /**
   * A commit's own: the offset its reader read from (the first record of the batch it covers). A store
   * that can (the local one) refuses the commit when the group is already past it: another reader with
   * the group has handed out those records too.
   */
  readFrom?: number
}

export interface AppendOptions {
  /** Creates the topic with these settings when it does not exist. */
  createWith?: TopicSettings
  /**
   * Commits these group offsets in the same transaction as the records (exactly-once copies between
   * topics of one store). Only for backends whose `atomicCommit` is true.
   */
  commit?: {group: string; offsets: GroupOffset[]}
  /** Stores these cursor positions in the same transaction as the records; only on a store whose cursorStore() it is. */
  cursor?: CursorCommit
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
  /**
   * Optional (Kafka): the partition count of a topic about to be written, without the rest of
   * describeTopic (offsets, configs, sizes: four more requests on Kafka); the backend may get its writer
   * ready meanwhile. Throws UnknownTopicError.
   */
  writePartitions?(name: string): Promise<number>
  deleteTopic(name: string): Promise<void>
  /**
   * Adds partitions and changes retention and configs, then describes the topic. Fewer or as many
   * partitions as it has is a UsageError; an unknown topic is an UnknownTopicError.
   */
  alterTopic(name: string, changes: TopicChanges): Promise<TopicInfo>

  /**
   * Commits the batches (each bound to one partition of `topic`): after it resolves they are stored and have
   * dense offsets. The local store is atomic (a rejection stores none); Kafka has no transaction across
   * produce requests, so a rejection after part was stored is a PartialAppendError that says how much.
   */
  append(topic: string, batches: PendingBatch[], options?: AppendOptions): Promise<AppendResult>

  /**
   * Optional: how produce's packed path (plain lines) lays out a batch while it splits the input, for a
   * backend that writes records in a format of its own. Kafka's layout is its records section, so a
   * produce request sends it whole instead of a record at a time; the local store's puts a newline after
   * each value, so its blob's values column is the default output as it stands. With `batchBytes`, a batch
   * is cut once it holds that much of the layout, and an append carries several; without, a batch holds
   * what an append does. With `keys`, keyed lines (-K, -k) take the packed path too. Without a layout,
   * values lie back to back (PackedValues).
   */
  readonly packedLayout?: {batchBytes?: number; keys: boolean; create(bytes: number, records: number): PackedValues}

  /**
   * Optional (Kafka): resolves once nothing of a failed append can still be stored, so that a read of the
   * topic after it sees everything that append will ever have written. An append that failed without an
   * answer to each request (a timeout, a cut connection) may otherwise be stored by the broker later. The
   * local store needs none: a failed append stored nothing.
   */
  settleAppends?(): Promise<void>

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
  /**
   * Before a reader with a group reads: refuses a group that other consumers are members of (Kafka),
   * whose commits the broker would refuse only after records were handed out.
   */
  checkGroupIdle?(group: string): Promise<void>
  /** Forgets a group and all its offsets; throws UnknownGroupError for a group with none. */
  deleteGroup(group: string): Promise<void>

  /** The local store keeps schemas itself: its registry (Kafka's lives elsewhere, named by the command). */
  schemaRegistry?(): ImportingRegistry

  /**
   * Optional (the local store): the stored batches holding records of [from, until) of a partition, in
   * offset order, from the store's metadata, without reading the records. `count` answers from it.
   */
  batchSummaries?(assignment: Assignment & {until: number}): Promise<BatchSummary[]>
  /** The local store keeps cursors: named read positions for sources on any backend (spool --cursor). */
  cursorStore?(): CursorStore

  /** Reaches the backend once, so that a command fails early and a terminal can show the wait; optional. */
  connect?(): Promise<void>

  close(): Promise<void>
}

/** A cursor's position in one partition of a source: the offset of the next record to read. */
export interface CursorOffset extends GroupOffset {
  /** The topic's identity (TopicInfo.topicId) when the position was taken. */
  topicId?: string
}

/** Positions of one cursor in one source, to store. */
export interface CursorCommit {
  cursor: string
  /** The source's identity: file:PATH or kafka://host:port[,host:port] (brokers sorted). */
  source: string
  offsets: CursorOffset[]
}

/** A stored cursor position. */
export interface CursorPosition extends CursorOffset {
  cursor: string
  source: string
  /** ms since epoch. */
  updatedAt: number
}

/** Where cursors live: a local store, whatever backend the records they track are on. */
export interface CursorStore {
  readonly location: string
  /** Every stored position of a cursor, or of every cursor; ordered by cursor, source, topic, partition. */
  cursorPositions(cursor?: string): Promise<CursorPosition[]>
  commitCursor(commit: CursorCommit): Promise<void>
  /** Forgets a cursor; returns how many positions it had. */
  deleteCursor(cursor: string): Promise<number>
}
