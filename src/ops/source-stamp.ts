import type {Backend} from '../core/backend.js'
import type {Header} from '../core/record.js'

/**
 * Exactly-once copies into a destination without transactions (Kafka). Every record a copy with a group
 * writes carries a header naming its source position, `spool.source: GROUP/TOPIC/PARTITION/OFFSET`.
 * The copy writes one source batch, then commits the group; so at any moment only the records after
 * the last committed batch can be in the destination without the group knowing. On start (and after a
 * failed write) the tail of every destination partition is read back to the first record of this copy
 * that the group has committed, and the positions found after it are skipped when the source is read
 * again from the group's offsets. Routing plays no part: a keyless record may land elsewhere on the rerun
 * and is still recognised by its position.
 */
export const SOURCE_HEADER = 'spool.source'

/** What names one copy among the writers of a destination: its group and its source topic. */
export interface CopyIdentity {
  group: string
  topic: string
}

/** Source positions found in the destination: source partition → offset → the copy's timestamp. */
export type CopiedPositions = Map<number, Map<number, number>>

export function sourceStamp(id: CopyIdentity, partition: number, offset: number): Header {
  return {key: SOURCE_HEADER, value: Buffer.from(`${id.group}/${id.topic}/${partition}/${offset}`)}
}

/** The position the last spool.source header names, when it names this copy. */
export function stampedPosition(headers: Header[], id: CopyIdentity): {partition: number; offset: number} | undefined {
  for (let i = headers.length - 1; i >= 0; i--) {
    const header = headers[i]!
    if (header.key !== SOURCE_HEADER || header.value === null) continue
    const text = header.value.toString()
    // GROUP may hold '/', TOPIC cannot: read from the right.
    const offsetAt = text.lastIndexOf('/')
    const partitionAt = text.lastIndexOf('/', offsetAt - 1)
    const topicAt = text.lastIndexOf('/', partitionAt - 1)
    if (topicAt < 0 || text.slice(0, topicAt) !== id.group || text.slice(topicAt + 1, partitionAt) !== id.topic) return undefined
    const partition = Number(text.slice(partitionAt + 1, offsetAt))
    const offset = Number(text.slice(offsetAt + 1))
    return Number.isInteger(partition) && Number.isInteger(offset) ? {partition, offset} : undefined
  }
  return undefined
}

/** Records read back per step at first; each further step reads four times as many. */
const FIRST_STEP = 1000
const LONGEST_STEP = 1_000_000

/**
 * The positions of this copy in the destination that the group's committed offsets do not cover. Each
 * destination partition is read backwards in growing steps until a record of this copy the group has
 * committed: everything the copy wrote after it was written after that commit.
 *
 * That holds only while no committed record is ever written after an uncommitted one, in any partition.
 * A run writes one source batch and commits it before the next, so only its last batch can be
 * uncommitted; but a rerun that found such a batch must finish and commit it before it writes anything
 * of another source partition (pipe.ts reads the ranges of `interrupted()` first). Otherwise the records
 * it commits land after the found ones, and if it is killed before it reaches their partition, the next
 * run's read-back stops at its committed records and copies the found ones again.
 */
export async function copiedSinceCommit(
  source: Backend,
  destination: Backend,
  topic: string,
  id: CopyIdentity,
  signal: AbortSignal,
): Promise<{copied: CopiedPositions; committed: Map<number, number>}> {
  const committed = new Map<number, number>()
  for (const o of await source.groupOffsets(id.group)) if (o.topic === id.topic) committed.set(o.partition, o.offset)
  const copied: CopiedPositions = new Map()
  const info = await destination.describeTopic(topic)
  for (const part of info.partitionInfo) {
    let until = part.end
    let step = FIRST_STEP
    scan: while (until > part.start && !signal.aborted) {
      const from = Math.max(part.start, until - step)
      const found: {partition: number; offset: number; timestamp: number}[] = []
      for await (const batch of destination.read([{topic, partition: part.partition, from, until}], {signal}))
        for (let i = 0; i < batch.count; i++) {
          const position = stampedPosition(batch.headersAt(i), id)
          if (position) found.push({...position, timestamp: batch.timestampAt(i)})
        }
      for (let i = found.length - 1; i >= 0; i--) {
        const {partition, offset, timestamp} = found[i]!
        if (offset < (committed.get(partition) ?? 0)) break scan
        let offsets = copied.get(partition)
        if (!offsets) copied.set(partition, (offsets = new Map()))
        offsets.set(offset, timestamp)
      }
      until = from
      step = Math.min(step * 4, LONGEST_STEP)
    }
  }
  return {copied, committed}
}
