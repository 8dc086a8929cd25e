import {type Backend, type GroupOffset, partitionKey} from '../core/backend.js'
import {UnknownGroupError, UsageError} from '../core/errors.js'
import {type Position, resolvePosition} from '../core/positions.js'

/** One partition of a group, as `group describe` shows it. */
export interface GroupPartitionState {
  topic: string
  partition: number
  /** null: the group has committed nothing in this partition yet. */
  committed: number | null
  end: number
  /** Records the group has yet to read: from its commit, or from the partition's start without one. */
  lag: number
}

export interface GroupSummary {
  group: string
  topics: string[]
  partitions: number
  lag: number
}

export async function describeGroup(backend: Backend, group: string): Promise<GroupPartitionState[]> {
  const offsets = await backend.groupOffsets(group)
  if (offsets.length === 0) throw new UnknownGroupError(group, backend.location)
  const committed = new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o.offset]))
  // Every partition of the group's topics: one it has never committed in still has records to read, and
  // leaving it out would understate the lag.
  const rows: GroupPartitionState[] = []
  for (const topic of [...new Set(offsets.map((o) => o.topic))]) {
    const info = await backend.describeTopic(topic)
    for (const p of info.partitionInfo) {
      const offset = committed.get(partitionKey(topic, p.partition))
      rows.push({topic, partition: p.partition, committed: offset ?? null, end: p.end, lag: Math.max(0, p.end - (offset ?? p.start))})
    }
  }
  return rows
}

export async function summarizeGroups(backend: Backend): Promise<GroupSummary[]> {
  const summaries: GroupSummary[] = []
  for (const group of await backend.listGroups()) {
    // Kafka lists groups that have members but have committed nothing yet: shown with no partitions.
    const rows = await describeGroup(backend, group).catch((error: unknown) => {
      if (error instanceof UnknownGroupError) return []
      throw error
    })
    summaries.push({
      group,
      topics: [...new Set(rows.map((r) => r.topic))],
      partitions: rows.length,
      lag: rows.reduce((sum, r) => sum + r.lag, 0),
    })
  }
  return summaries
}

export interface ResetPlanRow {
  topic: string
  partition: number
  /** The committed offset now, or null where the group has none. */
  current: number | null
  target: number
}

export interface ResetOptions {
  to?: Position
  shiftBy?: number
  /** Only these topics; by default every topic the group has offsets for. */
  topics?: string[]
}

/** What `group reset` would do: per partition, the committed offset now and the one it would become. */
export async function planReset(backend: Backend, group: string, options: ResetOptions): Promise<ResetPlanRow[]> {
  if ((options.to === undefined) === (options.shiftBy === undefined))
    throw new UsageError('group reset needs exactly one of --to and --shift-by', 'e.g. --to earliest, --to @-1h or --shift-by -100')
  const offsets = await backend.groupOffsets(group)
  const topics = options.topics ?? [...new Set(offsets.map((o) => o.topic))]
  if (topics.length === 0)
    throw new UnknownGroupError(group, backend.location)
  const current = new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o.offset]))
  const plan: ResetPlanRow[] = []
  for (const topic of topics) {
    const info = await backend.describeTopic(topic)
    for (const part of info.partitionInfo) {
      const now = current.get(partitionKey(topic, part.partition)) ?? null
      const target =
        options.to !== undefined
          ? await resolvePosition(options.to, part, (ts) => backend.offsetForTime(topic, part.partition, ts))
          : Math.min(Math.max((now ?? part.start) + options.shiftBy!, part.start), part.end)
      plan.push({topic, partition: part.partition, current: now, target})
    }
  }
  return plan
}

export async function applyReset(backend: Backend, group: string, plan: ResetPlanRow[]): Promise<void> {
  const offsets: GroupOffset[] = plan.map((row) => ({topic: row.topic, partition: row.partition, offset: row.target}))
  await backend.commitOffsets(group, offsets)
}
