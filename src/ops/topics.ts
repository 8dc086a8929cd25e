import type {TopicInfo} from '../core/backend.js'
import {isoTime} from '../core/timestamps.js'
import {formatBytes, formatDuration} from '../core/units.js'

/** What `topic list --json` and `topic describe --json` print: one shape for both backends. */
export interface TopicSummary {
  name: string
  partitions: number
  records: number
  bytes: number
  retention_ms: number | null
  retention_bytes: number | null
  /** Copies of each partition: 1 in the local store. */
  replication_factor: number
  /** Present (true) only where the retention could not be read: retention_ms and retention_bytes are then null. */
  retention_unknown?: true
}

export interface TopicDetail extends TopicSummary {
  created_at: string | null
  partition_info: Array<{
    partition: number
    start_offset: number
    end_offset: number
    records: number
    bytes: number
    first_timestamp: string | null
    last_timestamp: string | null
  }>
}

const iso = (ms: number | undefined) => (ms === undefined ? null : isoTime(ms))

export function summarizeTopic(info: TopicInfo): TopicSummary {
  return {
    name: info.name,
    partitions: info.partitions,
    records: info.partitionInfo.reduce((sum, p) => sum + (p.end - p.start), 0),
    bytes: info.partitionInfo.reduce((sum, p) => sum + p.bytes, 0),
    retention_ms: info.retentionMs ?? null,
    retention_bytes: info.retentionBytes ?? null,
    replication_factor: info.replicationFactor ?? 1,
    ...(info.retentionUnknown ? {retention_unknown: true as const} : {}),
  }
}

export function detailTopic(info: TopicInfo): TopicDetail {
  return {
    ...summarizeTopic(info),
    created_at: iso(info.createdAt),
    partition_info: info.partitionInfo.map((p) => ({
      partition: p.partition,
      start_offset: p.start,
      end_offset: p.end,
      records: p.end - p.start,
      bytes: p.bytes,
      first_timestamp: iso(p.firstTimestamp),
      last_timestamp: iso(p.lastTimestamp),
    })),
  }
}

export function describeRetention(summary: TopicSummary): string {
  if (summary.retention_unknown) return 'unknown (not authorized to read the topic configs)'
  const parts: string[] = []
  if (summary.retention_ms !== null) parts.push(formatDuration(summary.retention_ms))
  if (summary.retention_bytes !== null) parts.push(`${formatBytes(summary.retention_bytes)}/partition`)
  return parts.length > 0 ? parts.join(', ') : 'forever'
}
