import type {Assignment, ReadOptions} from './backend.js'

/**
 * The partitions a following read of whole topics knows (ReadOptions.addedPartitions), and the
 * assignments for those added since: each backend asks its own store or metadata for the counts.
 */
export class PartitionGrowth {
  private readonly known: Array<{topic: string; partitions: number}>

  constructor(options: Pick<ReadOptions, 'follow' | 'addedPartitions'>) {
    this.known = options.follow ? (options.addedPartitions?.map((t) => ({...t})) ?? []) : []
  }

  /** Whether the read follows whole topics, so that added partitions are looked for at all. */
  get watching(): boolean {
    return this.known.length > 0
  }

  /** Assignments, from offset 0, for the partitions past those known that `countOf` names; known from now on. */
  added(countOf: (topic: string) => number | undefined): Assignment[] {
    const added: Assignment[] = []
    for (const topic of this.known)
      for (const count = countOf(topic.topic) ?? 0; topic.partitions < count; topic.partitions++) added.push({topic: topic.topic, partition: topic.partitions, from: 0})
    return added
  }
}
