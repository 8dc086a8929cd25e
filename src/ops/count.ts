import type {Assignment, Backend} from '../core/backend.js'
import type {KeySelection} from '../core/key-selection.js'
import {type FeedRecord, recordAt} from '../core/record.js'
import {isoTime} from '../core/timestamps.js'
import type {RecordDecoder} from '../schemas/decoder.js'
import {expressionTransform} from './transform.js'

export const COUNT_BY = ['partition', 'key', 'minute', 'hour', 'day'] as const
export type CountBy = (typeof COUNT_BY)[number]

const BUCKET_MS = {minute: 60_000, hour: 3_600_000, day: 86_400_000} as const
/**
 * Time buckets between the first and the last are listed even when empty, over a span of up to this many
 * (69 days by minute, 11 years by hour): a stray record years off would otherwise list millions of zeros.
 */
export const MAX_FILLED_BUCKETS = 100_000

export interface CountOptions {
  by?: CountBy
  /** pipe's --filter expression: only records for which it is truthy count. */
  filter?: string
  signal: AbortSignal
  /** Partitions listed by --by partition even when the range holds none of their records. */
  partitions?: Array<{topic: string; partition: number}>
  /** Use what the store knows of its batches where that is exact (default true); false reads every record. */
  metadata?: boolean
  /** --key: count only the records with one of these keys (read through the local store's key index). */
  keys?: KeySelection
  /** Records looked at by a read by key, for progress. */
  onScanned?: (records: number) => void
  /** --decode: the filter sees, and --by key counts, keys and values decoded as consume --decode prints them. */
  decoder?: RecordDecoder
}

export type Bucket =
  | {kind: 'partition'; topic: string; partition: number; count: number}
  | {kind: 'key'; key: Buffer | null; count: number}
  | {kind: 'time'; start: number; count: number}

export interface CountResult {
  total: number
  buckets?: Bucket[]
  /** Time buckets from the first to the last, when more than MAX_FILLED_BUCKETS: only those with records are listed. */
  unfilledSpan?: number
  /** Records that had to be read; the rest were counted from batch metadata. */
  recordsRead: number
}

type Tally = {total: number; recordsRead: number; partitions: Map<string, {topic: string; partition: number; count: number}>; keys: Map<string | null, number>; times: Map<number, number>}

/**
 * Counts the records a consume of the same assignments would print: exact on both backends. On Kafka,
 * offsets are not counts (compaction and transaction markers leave gaps), so records are read. Where
 * the backend keeps batch metadata (the local store) a batch is counted from it when that is exact:
 * always for a total or per partition, and for time buckets when the whole batch falls in one bucket;
 * the rest is read through the same backend read as consume.
 */
export async function countRecords(backend: Backend, assignments: Assignment[], options: CountOptions): Promise<CountResult> {
  const {by} = options
  const tally: Tally = {total: 0, recordsRead: 0, partitions: new Map(), keys: new Map(), times: new Map()}
  const bucketMs = by === 'minute' || by === 'hour' || by === 'day' ? BUCKET_MS[by] : undefined
  for (const a of [...(options.partitions ?? []), ...assignments]) tally.partitions.set(`${a.topic}\u0000${a.partition}`, {topic: a.topic, partition: a.partition, count: 0})
  const fromMetadata = options.metadata !== false && backend.batchSummaries !== undefined && options.filter === undefined && options.keys === undefined && by !== 'key'
  const toRead: Assignment[] = []
  for (const assignment of assignments) {
    if (!fromMetadata || assignment.until === undefined) {
      toRead.push(assignment)
      continue
    }
    toRead.push(...(await countFromMetadata(backend, {...assignment, until: assignment.until}, bucketMs, tally)))
  }
  if (toRead.length > 0) await countByReading(backend, toRead, {...options, bucketMs}, tally)
  if (by === undefined) return {total: tally.total, recordsRead: tally.recordsRead}
  return {total: tally.total, recordsRead: tally.recordsRead, ...buckets(by, tally, bucketMs)}
}

/** Adds what batch metadata answers exactly; returns the ranges that must be read. */
async function countFromMetadata(backend: Backend, assignment: Assignment & {until: number}, bucketMs: number | undefined, tally: Tally): Promise<Assignment[]> {
  const summaries = await backend.batchSummaries!(assignment)
  const counted: Array<{count: number; bucket?: number}> = []
  const toRead: Assignment[] = []
  let covered = assignment.from
  for (const batch of summaries) {
    const from = Math.max(batch.baseOffset, assignment.from)
    const until = Math.min(batch.baseOffset + batch.count, assignment.until)
    if (until <= from) continue
    // A batch that does not follow on from the last leaves records unaccounted for: read them instead.
    if (from !== covered) return [assignment]
    covered = until
    if (bucketMs === undefined) counted.push({count: until - from})
    else if (Math.floor(batch.minTimestamp / bucketMs) === Math.floor(batch.maxTimestamp / bucketMs))
      counted.push({count: until - from, bucket: Math.floor(batch.minTimestamp / bucketMs) * bucketMs})
    else toRead.push({topic: assignment.topic, partition: assignment.partition, from, until})
  }
  // Retention may have removed the start of the range since it was planned; a gap anywhere else is
  // missing records, which a read reports.
  if (covered !== assignment.until && summaries.length > 0) return [assignment]
  const part = tally.partitions.get(`${assignment.topic}\u0000${assignment.partition}`)!
  for (const {count, bucket} of counted) {
    tally.total += count
    part.count += count
    if (bucket !== undefined) tally.times.set(bucket, (tally.times.get(bucket) ?? 0) + count)
  }
  return toRead
}

async function countByReading(backend: Backend, assignments: Assignment[], options: CountOptions & {bucketMs?: number}, tally: Tally): Promise<void> {
  const {by, bucketMs} = options
  const filter = options.filter === undefined ? undefined : expressionTransform(options.filter, undefined)
  for await (const batch of backend.read(assignments, {signal: options.signal, keys: options.keys, onScanned: options.onScanned})) {
    tally.recordsRead += batch.count
    const part = tally.partitions.get(`${batch.topic}\u0000${batch.partition}`)!
    if (filter || (options.decoder && by === 'key')) {
      const records: FeedRecord[] = []
      for (let i = 0; i < batch.count; i++) records.push(options.decoder ? await options.decoder.decodeRecord(recordAt(batch, i)) : recordAt(batch, i))
      const kept = filter ? await filter.apply(records) : records
      for (const record of kept) addRecord(tally, by, bucketMs, record.timestamp, record.key)
      part.count += kept.length
      continue
    }
    if (by === 'key' || bucketMs !== undefined) for (let i = 0; i < batch.count; i++) addRecord(tally, by, bucketMs, batch.timestampAt(i), by === 'key' ? batch.keyAt(i) : null)
    else tally.total += batch.count
    part.count += batch.count
  }
}

function addRecord(tally: Tally, by: CountBy | undefined, bucketMs: number | undefined, timestamp: number, key: Buffer | null): void {
  tally.total++
  if (by === 'key') {
    // latin1 maps every byte to one character, so binary keys stay distinct and come back exactly.
    const name = key === null ? null : key.toString('latin1')
    tally.keys.set(name, (tally.keys.get(name) ?? 0) + 1)
  } else if (bucketMs !== undefined) {
    const bucket = Math.floor(timestamp / bucketMs) * bucketMs
    tally.times.set(bucket, (tally.times.get(bucket) ?? 0) + 1)
  }
}

/** Partitions in order; keys by count, most first (ties by key); time buckets in order, gaps as zeros. */
function buckets(by: CountBy, tally: Tally, bucketMs: number | undefined): {buckets: Bucket[]; unfilledSpan?: number} {
  if (by === 'partition')
    return {
      buckets: [...tally.partitions.values()]
        .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
        .map((p) => ({kind: 'partition', ...p})),
    }
  if (by === 'key')
    return {
      buckets: [...tally.keys.entries()]
        .sort(([ka, a], [kb, b]) => b - a || (ka === kb ? 0 : ka === null ? -1 : kb === null ? 1 : ka < kb ? -1 : 1))
        .map(([key, count]) => ({kind: 'key', key: key === null ? null : Buffer.from(key, 'latin1'), count})),
    }
  const starts = [...tally.times.keys()].sort((a, b) => a - b)
  if (starts.length === 0) return {buckets: []}
  const first = starts[0]!
  const last = starts.at(-1)!
  const span = (last - first) / bucketMs! + 1
  if (span > MAX_FILLED_BUCKETS) return {buckets: starts.map((start) => ({kind: 'time', start, count: tally.times.get(start)!})), unfilledSpan: span}
  const out: Bucket[] = []
  for (let start = first; start <= last; start += bucketMs!) out.push({kind: 'time', start, count: tally.times.get(start) ?? 0})
  return {buckets: out}
}

/** A bucket's name in plain output: the partition (topic/partition for several topics), the key, or the UTC time. */
export function bucketLabel(bucket: Bucket, by: CountBy, severalTopics: boolean): string {
  if (bucket.kind === 'partition') return severalTopics ? `${bucket.topic}/${bucket.partition}` : String(bucket.partition)
  if (bucket.kind === 'key') return bucket.key === null ? '(null)' : printableKey(bucket.key)
  const iso = isoTime(bucket.start)
  // Years past 9999 are written +YYYYYY: cut at the T, not at a fixed place.
  const date = iso.indexOf('T')
  if (date < 0) return iso
  if (by === 'day') return iso.slice(0, date)
  return `${iso.slice(0, date + 6)}Z`
}

/** Keys as text where they are UTF-8; control characters (a tab would break the columns) escaped. */
function printableKey(key: Buffer): string {
  const text = key.toString('utf8')
  // Keys that are not UTF-8, or that spell one of the labels' own forms ("(null)" for no key, base64:),
  // are written in base64, so that no two keys print alike.
  if (!Buffer.from(text, 'utf8').equals(key) || text === '(null)' || text.startsWith('base64:')) return `base64:${key.toString('base64')}`
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\\]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))
}

/** The JSON form of a bucket, for scripts: keys as the envelopes have them (base64 where not UTF-8). */
export function bucketJson(bucket: Bucket, by: CountBy): Record<string, unknown> {
  if (bucket.kind === 'partition') return {topic: bucket.topic, partition: bucket.partition, count: bucket.count}
  if (bucket.kind === 'time') return {start: bucket.start, bucket: bucketLabel(bucket, by, false), count: bucket.count}
  if (bucket.key === null) return {key: null, count: bucket.count}
  const text = bucket.key.toString('utf8')
  return Buffer.from(text, 'utf8').equals(bucket.key) ? {key: text, count: bucket.count} : {key: bucket.key.toString('base64'), key_encoding: 'base64', count: bucket.count}
}

/** One bar per bucket, scaled to the largest: a histogram read at a glance. */
export function histogram(rows: Array<{label: string; count: number}>, width: number): string[] {
  const labelWidth = Math.max(0, ...rows.map((r) => r.label.length))
  const countWidth = Math.max(0, ...rows.map((r) => r.count.toLocaleString('en-US').length))
  const barWidth = Math.min(60, Math.max(10, width - labelWidth - countWidth - 4))
  const max = Math.max(0, ...rows.map((r) => r.count))
  const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉']
  return rows.map(({label, count}) => {
    const eighths = max === 0 ? 0 : Math.round((count / max) * barWidth * 8)
    const bar = '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]!
    return `${label.padEnd(labelWidth)}  ${count.toLocaleString('en-US').padStart(countWidth)}  ${bar}`
  })
}
