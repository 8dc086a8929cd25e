import type {Backend} from '../core/backend.js'
import {UsageError} from '../core/errors.js'
import {PendingBatch} from '../core/record.js'

export interface LoadTestOptions {
  /** A scratch topic: created for the run and deleted afterwards unless `keep`. */
  topic: string
  records: number
  recordBytes: number
  partitions: number
  /** Records per append call: the batch a producer would send. */
  batchRecords: number
  latencySamples: number
  keep: boolean
  signal: AbortSignal
  onPhase?: (phase: 'produce' | 'consume' | 'latency') => void
}

export interface Throughput {
  records: number
  seconds: number
  recordsPerSecond: number
  megabytesPerSecond: number
}

export interface LoadTestResult {
  backend: string
  topic: string
  recordBytes: number
  partitions: number
  produce: Throughput
  consume: Throughput
  /** Append of one record -> the same record read by a follower in this process. */
  latency: {samples: number; p50Ms: number; p99Ms: number; maxMs: number}
}

/** `1000`, `250k`, `1M`, `1.5M`: record counts as people write them (decimal multiples). */
export function parseCount(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(text.trim())
  const scale = {'': 1, k: 1e3, m: 1e6, g: 1e9}[match?.[2]?.toLowerCase() ?? '']
  const exact = match && scale !== undefined ? Number(match[1]) * scale : Number.NaN
  const value = Math.round(exact)
  // 1.5M is a count; 1.5 is not.
  if (!Number.isSafeInteger(value) || value < 1 || Math.abs(exact - value) > 1e-6) throw new UsageError(`${what} '${text}' is not a count`, 'use a whole number such as 1000, 250k or 1M')
  return value
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9
/** The most bytes of records bench puts in one append (its batches stop at batchRecords or this). */
export const BENCH_BATCH_BYTES = 4 * 1024 * 1024

const rate = (records: number, bytes: number, elapsed: number): Throughput => ({
  records,
  seconds: elapsed,
  recordsPerSecond: records / elapsed,
  megabytesPerSecond: bytes / 1e6 / elapsed,
})
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

/**
 * A load test against any backend through the same interface the commands use: bulk append, a full read,
 * then a follower's end-to-end latency. It measures the backend, not stdin parsing or stdout writing.
 */
export async function runLoadTest(backend: Backend, options: LoadTestOptions): Promise<LoadTestResult> {
  const {topic, records, recordBytes, partitions, signal} = options
  await backend.createTopic(topic, {partitions})
  try {
    options.onPhase?.('produce')
    const value = Buffer.alloc(recordBytes, 'x')
    const started = process.hrtime.bigint()
    let written = 0
    // Keyless batches rotate over the partitions, as the sticky partitioner spreads them.
    for (let partition = 0; written < records && !signal.aborted; partition = (partition + 1) % partitions) {
      const batch = new PendingBatch(partition)
      const now = Date.now()
      // At most BENCH_BATCH_BYTES too: 1,100 records of 1 MiB went as one 1.1 GB append, past what
      // SQLite binds ("The bound string, buffer, or bigint is too big") and any broker takes at once.
      const count = Math.min(options.batchRecords, records - written, Math.max(1, Math.floor(BENCH_BATCH_BYTES / Math.max(1, recordBytes))))
      for (let i = 0; i < count; i++) batch.add(value, null, null, now, recordBytes)
      written += (await backend.append(topic, [batch])).count
    }
    const produce = rate(written, written * recordBytes, seconds(started))

    options.onPhase?.('consume')
    const info = await backend.describeTopic(topic)
    const assignments = info.partitionInfo.map((p) => ({topic, partition: p.partition, from: p.start, until: p.end}))
    const readStarted = process.hrtime.bigint()
    let read = 0
    let readBytes = 0
    for await (const batch of backend.read(assignments, {signal})) {
      read += batch.count
      for (let i = 0; i < batch.count; i++) readBytes += Math.max(0, batch.valueLength(i))
    }
    const consume = rate(read, readBytes, seconds(readStarted))

    options.onPhase?.('latency')
    const latency = await followerLatency(backend, topic, options.latencySamples, signal)
    return {backend: backend.location, topic, recordBytes, partitions, produce, consume, latency}
  } finally {
    if (!options.keep) await backend.deleteTopic(topic).catch(() => {})
  }
}

async function followerLatency(backend: Backend, topic: string, samples: number, signal: AbortSignal): Promise<LoadTestResult['latency']> {
  const info = await backend.describeTopic(topic)
  const follow = new AbortController()
  const stop = () => follow.abort()
  signal.addEventListener('abort', stop)
  const latencies: number[] = []
  let arrived: (() => void) | undefined
  const reader = (async () => {
    const assignments = info.partitionInfo.map((p) => ({topic, partition: p.partition, from: p.end}))
    for await (const batch of backend.read(assignments, {signal: follow.signal, follow: true})) {
      const now = performance.now()
      for (let i = 0; i < batch.count; i++) latencies.push(now - Number(batch.valueAt(i)!.toString('latin1')))
      arrived?.()
    }
  })().catch((error: unknown) => {
    if (!follow.signal.aborted) throw error
  })
  try {
    for (let i = 0; i < samples && !signal.aborted; i++) {
      const seen = new Promise<void>((resolve) => (arrived = resolve))
      const batch = new PendingBatch(i % info.partitions)
      const sent = Buffer.from(String(performance.now()), 'latin1')
      batch.add(sent, null, null, Date.now(), sent.length)
      await backend.append(topic, [batch])
      await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 2000))])
      // Spaced out so each sample measures a follower that was waiting, not one mid-read.
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  } finally {
    follow.abort()
    signal.removeEventListener('abort', stop)
    await reader
  }
  const sorted = latencies.sort((a, b) => a - b)
  return {samples: sorted.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted.at(-1) ?? Number.NaN}
}
