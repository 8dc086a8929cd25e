import {type Assignment, type Backend, type GroupOffset, type PartitionInfo, partitionKey, type TopicInfo} from '../core/backend.js'
import {UsageError} from '../core/errors.js'
import {type Position, checkRange, resolvePosition} from '../core/positions.js'
import {validateTopicName} from '../core/topic-name.js'

export interface ReadPlanOptions {
  topics: string[]
  /** Only these partition numbers of each topic; all when undefined. */
  partitions?: number[]
  from: Position
  /** Exclusive. Without it a bounded read stops at the end as it stood when the read began. */
  until?: Position
  /** Keep reading new records (until `until`, when given). */
  follow: boolean
  /** Start where this consumer group's committed offsets say, and from `from` where it has none. */
  group?: string
  /**
   * Start where these positions (a cursor's) say. Partitions of a topic they cover that have none (added
   * since) start at their beginning; topics they do not cover start at `from`.
   */
  resume?: GroupOffset[]
  /**
   * Filled with where the read starts in each partition that has no position in the group or the
   * cursor (`resume`) yet, ended reads included: committed before reading (startPositions), so that
   * a reader that reads nothing (--from latest on a quiet topic) still sets its position.
   */
  unpositioned?: GroupOffset[]
}

/** Resolves positions (and a group's committed offsets) against every partition into one read's assignments. */
export async function planRead(backend: Backend, options: ReadPlanOptions): Promise<Assignment[]> {
  const committed = new Map<string, number>()
  if (options.group) {
    await backend.checkGroupIdle?.(options.group)
    for (const o of await backend.groupOffsets(options.group)) committed.set(partitionKey(o.topic, o.partition), o.offset)
  }
  for (const o of options.resume ?? []) committed.set(partitionKey(o.topic, o.partition), o.offset)
  const resumedTopics = new Set(options.resume?.map((o) => o.topic))
  const deadline = followDeadline(options)
  if (options.until) checkRange(options.from, options.until)
  const assignments: Assignment[] = []
  // A topic named twice is read once.
  for (const topic of new Set(options.topics.map(validateTopicName))) {
    const info = await backend.describeTopic(topic)
    for (const part of selectPartitions(info, options.partitions)) {
      const lookup = (ts: number) => backend.offsetForTime(topic, part.partition, ts)
      const resume = committed.get(partitionKey(topic, part.partition))
      const from =
        resume !== undefined
          ? Math.min(Math.max(resume, part.start), part.end)
          : resumedTopics.has(topic)
            ? part.start
            : await resolvePosition(options.from, part, lookup)
      let until: number | undefined
      if (options.until) {
        until =
          options.follow && options.until.kind === 'offset'
            ? Math.max(options.until.offset, part.start) // while following, an offset past today's end is still a place to stop
            : await resolvePosition(options.until, part, lookup)
        // While following, a time no record has reached yet ends the read when it comes (followDeadline).
        if (deadline !== undefined && until >= part.end) until = undefined
      } else if (!options.follow) until = part.end
      if (resume === undefined && (options.group !== undefined || options.resume !== undefined))
        options.unpositioned?.push({topic, partition: part.partition, offset: from})
      if (until !== undefined && until <= from) continue
      assignments.push({topic, partition: part.partition, from, until})
    }
  }
  return assignments
}

/** Records an assignment list covers, when every assignment has an end. */
export function recordsInRange(assignments: Assignment[]): number | undefined {
  if (!assignments.every((a) => a.until !== undefined)) return undefined
  return assignments.reduce((sum, a) => sum + (a.until! - a.from), 0)
}

export function selectPartitions(info: TopicInfo, wanted: number[] | undefined): PartitionInfo[] {
  if (!wanted) return info.partitionInfo
  for (const p of wanted)
    if (p < 0 || p >= info.partitions)
      throw new UsageError(`topic '${info.name}' has no partition ${p}`, `it has partitions 0 to ${info.partitions - 1}`)
  return info.partitionInfo.filter((part) => wanted.includes(part.partition))
}

/**
 * The partition counts of the topics a following read covers whole (every partition from 0 up, no
 * end), for ReadOptions.addedPartitions; undefined for a read with an end or pinned partitions (-p).
 */
export function wholeTopics(assignments: readonly Assignment[], partitions: number[] | undefined): Array<{topic: string; partitions: number}> | undefined {
  if (partitions !== undefined || assignments.some((a) => a.until !== undefined)) return undefined
  const counts = new Map<string, Set<number>>()
  for (const a of assignments) counts.set(a.topic, (counts.get(a.topic) ?? new Set()).add(a.partition))
  const whole = [...counts].filter(([, set]) => Math.max(...set) + 1 === set.size).map(([topic, set]) => ({topic, partitions: set.size}))
  return whole.length > 0 ? whole : undefined
}

/**
 * A following read's `--until @TIME` that is still to come (@+10s, or a time no record has reached):
 * the read follows until that time, then ends; undefined otherwise. Planned without the end, the read
 * would find nothing before it and exit at once.
 */
export function followDeadline(options: Pick<ReadPlanOptions, 'follow' | 'until'>, now = Date.now()): number | undefined {
  return options.follow && options.until?.kind === 'time' && options.until.timestamp > now ? options.until.timestamp : undefined
}
