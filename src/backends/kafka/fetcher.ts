import {protocolErrorsCodesById} from '@platformatic/kafka'
import {type Assignment, partitionKey, type ReadOptions} from '../../core/backend.js'
import {SpoolError} from '../../core/errors.js'
import type {RecordBatch} from '../../core/record.js'
import type {KafkaAdmin} from './admin.js'
import {FAILOVER_PAUSE_MS, type KafkaClient} from './client.js'
import {KafkaRecordBatch} from './fetch.js'
import type {FetchPartition} from './wire.js'

/** Errors of a partition that new metadata (a moved leader) fixes. */
const STALE_LEADER = ['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH']

/**
 * Reads assignments with Fetch from each partition's leader, joining no consumer group (as kcat does),
 * with metadata refreshed when a leader moves. A bounded read ends at the end offsets it was given.
 * A leader that dies mid-read (its connection refused or cut while other brokers answer) is waited out
 * on fresh metadata for up to the timeout, counted from the first failed fetch.
 */
export async function* fetchRecords(client: KafkaClient, admin: KafkaAdmin, assignments: Assignment[], options: ReadOptions): AsyncGenerator<RecordBatch> {
  const next = new Map<Assignment, number>(assignments.map((a) => [a, a.from]))
  const live = () => assignments.filter((a) => a.until === undefined || next.get(a)! < a.until)
  let routes = await leaders(admin, assignments)
  let failingSince: number | undefined
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
      const topics = new Map<string, FetchPartition[]>()
      for (const a of group) topics.set(a.topic, [...(topics.get(a.topic) ?? []), {partition: a.partition, fetchOffset: next.get(a)!, maxBytes: 8 << 20}])
      let response
      try {
        response = await client.call('fetching records', () => client.wire.fetch({broker, maxWaitMs: 500, minBytes: 1, maxBytes: 32 << 20, topics}), undefined, {failover: false})
        failingSince = undefined
      } catch (error) {
        failingSince ??= Date.now()
        if (Date.now() - failingSince < client.timeoutMs && (await client.failingOver(error))) {
          stale = true
          await new Promise((r) => setTimeout(r, FAILOVER_PAUSE_MS))
          continue
        }
        throw error
      }
      for (const topicResponse of response) {
        for (const p of topicResponse.partitions) {
          const assignment = group.find((a) => a.topic === topicResponse.topic && a.partition === p.partitionIndex)
          if (!assignment) continue
          const offset = next.get(assignment)!
          if (p.errorCode !== 0) {
            const name = protocolErrorsCodesById[p.errorCode] ?? `error ${p.errorCode}`
            // Retention removed the records asked for: continue from the first one still there.
            if (name === 'OFFSET_OUT_OF_RANGE' && offset < p.logStartOffset) next.set(assignment, p.logStartOffset)
            else if (STALE_LEADER.includes(name)) stale = true
            else
              throw client.translate(
                Object.assign(new Error(name), {apiId: name}),
                `fetching ${assignment.topic}/${assignment.partition} at offset ${offset} (log start ${p.logStartOffset}, high watermark ${p.highWatermark})`,
                assignment.topic,
              )
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
    if (stale) routes = await leaders(admin, assignments)
  }
}

/** Leaders of the assignments' partitions and the brokers' addresses, from fresh metadata. */
async function leaders(admin: KafkaAdmin, assignments: Assignment[]) {
  const names = [...new Set(assignments.map((a) => a.topic))]
  const {metadata, topics} = await admin.topicsMetadata(names, true)
  const leaders = new Map<string, number>()
  topics.forEach((topic, i) => topic.partitions.forEach((p, index) => leaders.set(partitionKey(names[i]!, index), p.leader)))
  return {leaders, brokers: metadata.brokers}
}
