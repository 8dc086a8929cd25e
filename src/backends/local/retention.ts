import type {PartitionRow, Statements, TopicRow} from './statements.js'

/** Batches retention looks at per query: it walks a partition from its oldest batch. */
const WALK = 64

/**
 * Where a partition starts once retention is applied, and the bytes it then holds. Retention drops only
 * a prefix of whole batches, as Kafka deletes whole segments: the oldest batches go while they are older
 * than retention.ms, or while the partition would still hold retention.bytes without them.
 *
 * Writers delete those batches (deleteExpired); readers never write, so they use this to skip what
 * retention has made unreadable but no writer has deleted yet.
 */
export function retained(s: Statements, row: TopicRow, part: PartitionRow, now: number): {start: number; bytes: number} {
  let start = part.start_offset
  let bytes = part.bytes
  if (row.retention_ms === null && row.retention_bytes === null) return {start, bytes}
  for (;;) {
    const batches = s.batchMetaFrom.all(row.id, part.partition, start, WALK)
    for (const batch of batches) {
      const expired = row.retention_ms !== null && batch.max_timestamp < now - row.retention_ms
      const oversized = row.retention_bytes !== null && bytes - batch.bytes >= row.retention_bytes
      if (!expired && !oversized) return {start, bytes}
      bytes -= batch.bytes
      start = batch.base_offset + batch.record_count
    }
    if (batches.length < WALK) return {start, bytes}
  }
}

/** Deletes the batches retention has made unreadable; only inside a write transaction. */
export function deleteExpired(s: Statements, row: TopicRow, partition: number, now: number): void {
  const part = s.partition.get(row.id, partition)
  if (!part) return
  const keep = retained(s, row, part, now)
  if (keep.start === part.start_offset) return
  for (;;) {
    const batches = s.batchMetaFrom.all(row.id, partition, part.start_offset, WALK).filter((b) => b.base_offset < keep.start)
    if (batches.length === 0) break
    for (const batch of batches) {
      s.deleteBatch.run(row.id, partition, batch.base_offset)
      s.keyIndex?.deleteRow.run(row.id, partition, batch.base_offset)
      s.keyIndex?.maps?.deleteRow.run(row.id, partition, batch.base_offset)
    }
  }
  // A segment of key postings goes with the last of its batches; the rest of it is read past.
  s.keyIndex?.postings?.deleteBefore.run(row.id, partition, keep.start, keep.start)
  s.trimPartition.run(keep.start, keep.bytes, row.id, partition)
}
