import {protocolErrorsCodesById} from '@platformatic/kafka'
import {type Assignment, partitionKey, type ReadOptions} from '../../core/backend.js'
import {SpoolError} from '../../core/errors.js'
import {PartitionGrowth} from '../../core/partition-growth.js'
import type {RecordBatch} from '../../core/record.js'
import type {KafkaAdmin} from './admin.js'
import {FAILOVER_PAUSE_MS, type KafkaClient} from './client.js'
import {type FetchedTopic, KafkaRecordBatch} from './fetch.js'
import type {Broker, FetchPartition} from './wire.js'

/**
 * Most bytes per partition and per response. A response is held whole while its records are written
 * out, with the decoded batch over it and the prefetched next response beside it, so these bound a
 * consume's memory: at 8 and 32 MiB a consume of 1M lines peaked at 147-161 MiB of RSS. Smaller fetches
 * cost CPU instead (1 and 4 MiB: 1.2-1.3 s of user CPU for 1M lines against 0.8 s at 4 MiB a partition,
 * measured side by side; docs/BENCHMARKS.md), so 4 MiB a partition, 8 MiB a response: 138-141 MiB.
 */
const PARTITION_FETCH_BYTES = 4 << 20
const FETCH_BYTES = 8 << 20

/**
 * How often a following read of whole topics reads their metadata for partitions added to them (Kafka's
 * own consumers look every metadata.max.age.ms, 5 minutes by default; kcat never does).
 */
const GROWTH_CHECK_MS = 5000

/** Errors of a partition that new metadata (a moved leader) fixes. */
const STALE_LEADER = ['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH']

/**
 * Reads assignments with Fetch from each partition's leader, joining no consumer group (as kcat does),
 * with metadata refreshed when a leader moves. A bounded read ends at the end offsets it was given.
 * A leader that dies mid-read (its connection refused or cut while other brokers answer) is waited out
 * on fresh metadata for up to the timeout, counted from the first failed fetch; with -f, what is still
 * failing after that (or Kafka not answering at all) is an outage, waited out for as long as it lasts.
 */
export async function* fetchRecords(client: KafkaClient, admin: KafkaAdmin, planned: Assignment[], options: ReadOptions): AsyncGenerator<RecordBatch> {
  const assignments = [...planned]
  const next = new Map<Assignment, number>(assignments.map((a) => [a, a.from]))
  // Followed whole topics: partitions added to them are read from their first record, found in the
  // metadata read every GROWTH_CHECK_MS (and whenever leaders are looked up again).
  const growth = new PartitionGrowth(options)
  let grownAt = Date.now()
  const addPartitions = (counts: Map<string, number>) => {
    for (const added of growth.added((topic) => counts.get(topic))) {
      assignments.push(added)
      next.set(added, 0)
    }
  }
  const live = () => assignments.filter((a) => a.until === undefined || next.get(a)! < a.until)
  // Two waits, one inside the other. Failover: a leader that moved off a dead broker of a live cluster
  // is looked up again on fresh metadata, within --timeout counted from the first failed fetch. Outage: a
  // following read (-f) whose failover gave up, or that cannot reach Kafka at all, waits in Outage.run,
  // with the command's state lines, until Kafka answers or the read stops.
  const outage = options.follow ? options.outage : undefined
  const patiently = <T>(call: () => Promise<T>): Promise<T> => (outage ? outage.run(call) : call())
  let failingSince: number | undefined
  let routes!: Awaited<ReturnType<typeof leaders>>
  /** Looks up the leaders again (and partitions added to followed topics); false when the read was stopped meanwhile. */
  const lookUpLeaders = async (): Promise<boolean> => {
    try {
      routes = await patiently(() => leaders(admin, assignments))
    } catch (error) {
      if (options.signal.aborted) return false
      throw error
    }
    addPartitions(routes.counts)
    return true
  }
  if (!(await lookUpLeaders())) return
  const fetchFrom = (broker: Broker, group: Assignment[]) => {
    const topics = new Map<string, FetchPartition[]>()
    for (const a of group) topics.set(a.topic, [...(topics.get(a.topic) ?? []), {partition: a.partition, fetchOffset: next.get(a)!, maxBytes: PARTITION_FETCH_BYTES}])
    return client.wire.fetch({broker, maxWaitMs: 500, minBytes: 1, maxBytes: FETCH_BYTES, topics})
  }
  /**
   * The next fetch, asked for before the records of the last one are handed on: the broker reads and
   * sends it while they are written out, as librdkafka's prefetching consumer does (a fetch at a time
   * left the broker idle while spool wrote and spool idle while the broker read, 1.6x kcat's time).
   * Only with one leader and a clean response, and only used if the next round asks the same of it.
   */
  let prefetched: {node: number; offsets: string; response: Promise<FetchedTopic[]>} | undefined
  const offsetsOf = (group: Assignment[]) => group.map((a) => `${a.topic}/${a.partition}@${next.get(a)}`).join(',')
  while (!options.signal.aborted) {
    if (growth.watching && Date.now() - grownAt >= GROWTH_CHECK_MS) {
      grownAt = Date.now()
      if (!(await lookUpLeaders())) return
    }
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
      const ahead = prefetched?.node === node && prefetched.offsets === offsetsOf(group) ? prefetched.response : undefined
      prefetched = undefined
      let response
      let attempts = 0
      try {
        response = await patiently(async () => {
          // An outage retry: the leaders may have moved while Kafka was away. Look again, and leave
          // partitions that moved to the next round.
          if (attempts++ > 0) {
            routes = await leaders(admin, assignments)
            const now = routes.brokers.get(node)
            if (!now || group.some((a) => routes!.leaders.get(partitionKey(a.topic, a.partition)) !== node)) {
              stale = true
              return []
            }
          }
          const leader = routes!.brokers.get(node) ?? broker
          try {
            const fetched = await client.call('fetching records', () => (attempts === 1 && ahead ? ahead : fetchFrom(leader, group)), undefined, {failover: false})
            failingSince = undefined
            return fetched
          } catch (error) {
            failingSince ??= Date.now()
            if (Date.now() - failingSince < client.timeoutMs && (await client.failingOver(error))) {
              // Failover: the round ends here and the leaders are read again before the next one.
              stale = true
              await new Promise((r) => setTimeout(r, FAILOVER_PAUSE_MS))
              return []
            }
            throw error
          }
        })
      } catch (error) {
        if (options.signal.aborted) return
        throw error
      }
      // The response is read through before any of it is handed on, so that the next fetch can go out first.
      const ready: KafkaRecordBatch[] = []
      let failure: Error | undefined
      read: for (const topicResponse of response) {
        for (const p of topicResponse.partitions) {
          const assignment = group.find((a) => a.topic === topicResponse.topic && a.partition === p.partitionIndex)
          if (!assignment) continue
          const offset = next.get(assignment)!
          if (p.errorCode !== 0) {
            const name = protocolErrorsCodesById[p.errorCode] ?? `error ${p.errorCode}`
            // Retention removed the records asked for: continue from the first one still there.
            if (name === 'OFFSET_OUT_OF_RANGE' && offset < p.logStartOffset) next.set(assignment, p.logStartOffset)
            else if (STALE_LEADER.includes(name)) stale = true
            else {
              failure = client.translate(
                Object.assign(new Error(name), {apiId: name}),
                `fetching ${assignment.topic}/${assignment.partition} at offset ${offset} (log start ${p.logStartOffset}, high watermark ${p.highWatermark})`,
                assignment.topic,
              )
              break read
            }
            continue
          }
          if (!p.records) continue
          const batch = new KafkaRecordBatch(assignment.topic, p.partitionIndex, p.records, offset, assignment.until, p.abortedTransactions)
          next.set(assignment, Math.max(offset, batch.nextOffset))
          ready.push(batch)
          if (batch.damage) {
            failure = batch.damage
            break read
          }
        }
      }
      const following = group.filter((a) => a.until === undefined || next.get(a)! < a.until)
      if (!failure && !stale && byLeader.size === 1 && following.length === group.length && !options.signal.aborted) {
        const response = fetchFrom(broker, group)
        response.catch(() => {})
        prefetched = {node, offsets: offsetsOf(group), response}
      }
      for (const batch of ready) {
        if (options.keys) {
          // Kafka keeps no key index: a read by key is a scan, filtered here.
          options.onScanned?.(batch.count)
          const selected = batch.count > 0 ? options.keys.select(batch) : undefined
          if (selected) yield selected
        } else if (batch.count > 0) yield batch
      }
      if (failure) throw failure
    }
    if (stale && !(await lookUpLeaders())) return
  }
}

/** Leaders of the assignments' partitions and the brokers' addresses, from fresh metadata. */
async function leaders(admin: KafkaAdmin, assignments: Assignment[]) {
  const names = [...new Set(assignments.map((a) => a.topic))]
  const {metadata, topics} = await admin.topicsMetadata(names, true)
  const leaders = new Map<string, number>()
  const counts = new Map<string, number>()
  topics.forEach((topic, i) => {
    counts.set(names[i]!, topic.partitions.length)
    topic.partitions.forEach((p, index) => leaders.set(partitionKey(names[i]!, index), p.leader))
  })
  return {leaders, brokers: metadata.brokers, counts}
}
