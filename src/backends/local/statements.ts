import type Database from 'better-sqlite3'
import {candidateQuery} from './key-index.js'
import {BUCKETS, segmentQuery} from './key-postings.js'
import {CHECKSUM_VERSION, KEY_INDEX_VERSION, KEY_MAP_VERSION, KEY_POSTINGS_VERSION} from './schema.js'

export interface TopicRow {
  id: number
  name: string
  partitions: number
  retention_ms: number | null
  retention_bytes: number | null
  created_at: number
}

export interface PartitionRow {
  partition: number
  start_offset: number
  next_offset: number
  bytes: number
}

export interface BatchRow {
  base_offset: number
  record_count: number
  data: Buffer
  /** CRC-32C of data; null for batches written before store version 3. */
  crc: number | null
}

/** An index row with its filter tested in SQLite (key-index.ts candidateQuery). */
export interface KeyCandidateRow {
  base_offset: number
  record_count: number
  /**
   * 1: the batch may hold a key; 0: it holds none; null: test the filter itself; 2: its keys are in key
   * postings; 3: its keys are not yet in key postings (read it whole).
   */
  maybe: 0 | 1 | 2 | 3 | null
}

/** A key postings row that may hold a key (key-postings.ts segmentQuery); `walk` numbers the bucket walked. */
export interface SegmentHit {
  walk: number
  first_offset: number
  end_offset: number
  postings: Buffer
}

/** Parts of a batch blob read by SQL substr (statements' keyIndex.maps.partsOf): p0, p1... */
export interface BatchParts {
  record_count: number
  size: number
  [part: `p${number}`]: Buffer
}

export interface BatchMeta {
  base_offset: number
  record_count: number
  max_timestamp: number
  bytes: number
}

/**
 * Every statement the store runs, prepared once per open. A store of version 2 opened for reading has no
 * crc column: its batches read with a NULL checksum.
 */
export function prepareStatements(db: Database.Database, version: number) {
  const crc = version >= CHECKSUM_VERSION ? 'crc' : 'NULL AS crc'
  return {
    topicByName: db.prepare<[string], TopicRow>('SELECT * FROM topics WHERE name = ?'),
    topicById: db.prepare<[number], TopicRow>('SELECT * FROM topics WHERE id = ?'),
    allTopics: db.prepare<[], TopicRow>('SELECT * FROM topics ORDER BY name'),
    insertTopic: db.prepare('INSERT INTO topics (name, partitions, retention_ms, retention_bytes, created_at) VALUES (?, ?, ?, ?, ?)'),
    deleteTopic: db.prepare('DELETE FROM topics WHERE id = ?'),
    setTopicPartitions: db.prepare('UPDATE topics SET partitions = ? WHERE id = ?'),
    setTopicRetention: db.prepare('UPDATE topics SET retention_ms = ?, retention_bytes = ? WHERE id = ?'),
    insertPartition: db.prepare('INSERT INTO partitions (topic_id, partition) VALUES (?, ?)'),
    partitions: db.prepare<[number], PartitionRow>(
      'SELECT partition, start_offset, next_offset, bytes FROM partitions WHERE topic_id = ? ORDER BY partition',
    ),
    partition: db.prepare<[number, number], PartitionRow>(
      'SELECT partition, start_offset, next_offset, bytes FROM partitions WHERE topic_id = ? AND partition = ?',
    ),
    advancePartition: db.prepare('UPDATE partitions SET next_offset = ?, bytes = bytes + ? WHERE topic_id = ? AND partition = ?'),
    trimPartition: db.prepare('UPDATE partitions SET start_offset = ?, bytes = ? WHERE topic_id = ? AND partition = ?'),
    deletePartitions: db.prepare('DELETE FROM partitions WHERE topic_id = ?'),
    insertBatch:
      version >= CHECKSUM_VERSION
        ? db.prepare(
            'INSERT INTO batches (topic_id, partition, base_offset, record_count, min_timestamp, max_timestamp, bytes, data, crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          )
        : undefined,
    /** The oldest batches of a partition from an offset on, for retention (which only ever drops a prefix). */
    batchMetaFrom: db.prepare<[number, number, number, number], BatchMeta>(
      'SELECT base_offset, record_count, max_timestamp, bytes FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= ? ORDER BY base_offset LIMIT ?',
    ),
    deleteBatch: db.prepare('DELETE FROM batches WHERE topic_id = ? AND partition = ? AND base_offset = ?'),
    deleteBatches: db.prepare('DELETE FROM batches WHERE topic_id = ?'),
    batchesFrom: db.prepare<[number, number, number, number], BatchRow>(
      `SELECT base_offset, record_count, data, ${crc} FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= ? ORDER BY base_offset LIMIT ?`,
    ),
    containingBatch: db.prepare<[number, number, number], {base_offset: number; record_count: number}>(
      'SELECT base_offset, record_count FROM batches WHERE topic_id = ? AND partition = ? AND base_offset <= ? ORDER BY base_offset DESC LIMIT 1',
    ),
    firstBatchAtTime: db.prepare<[number, number, number, number], BatchRow>(
      `SELECT base_offset, record_count, data, ${crc} FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= ? AND max_timestamp >= ? ORDER BY base_offset LIMIT 1`,
    ),
    timeBounds: db.prepare<[number, number, number, number, number], {first: number | null; last: number | null}>(
      `SELECT (SELECT min_timestamp FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= ? ORDER BY base_offset LIMIT 1) AS first,
              (SELECT max_timestamp FROM batches WHERE topic_id = ? AND partition = ? ORDER BY base_offset DESC LIMIT 1) AS last`,
    ),
    groupNames: db.prepare<[], {group_name: string}>('SELECT DISTINCT group_name FROM group_offsets ORDER BY group_name'),
    groupOffsets: db.prepare<[string], {topic: string; partition: number; committed: number}>(
      'SELECT t.name AS topic, g.partition, g.committed FROM group_offsets g JOIN topics t ON t.id = g.topic_id WHERE g.group_name = ? ORDER BY t.name, g.partition',
    ),
    groupOffsetAt: db.prepare<[string, number, number], {committed: number}>('SELECT committed FROM group_offsets WHERE group_name = ? AND topic_id = ? AND partition = ?'),
    upsertGroupOffset: db.prepare(
      'INSERT INTO group_offsets (group_name, topic_id, partition, committed, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_name, topic_id, partition) DO UPDATE SET committed = excluded.committed, updated_at = excluded.updated_at',
    ),
    deleteGroup: db.prepare('DELETE FROM group_offsets WHERE group_name = ?'),
    deleteTopicGroupOffsets: db.prepare('DELETE FROM group_offsets WHERE topic_id = ?'),
    /** Batch metadata from a batch's base offset up to an exclusive offset, for counting without reading. */
    batchSummaries: db.prepare<[number, number, number, number], {base_offset: number; record_count: number; min_timestamp: number; max_timestamp: number}>(
      'SELECT base_offset, record_count, min_timestamp, max_timestamp FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= ? AND base_offset < ? ORDER BY base_offset',
    ),
    ...(version >= KEY_INDEX_VERSION ? keyIndexStatements(db, crc, version >= KEY_MAP_VERSION, version >= KEY_POSTINGS_VERSION) : {keyIndex: undefined}),
  }
}

/** The key index's statements (store version 5 on); a version 4 store opened for reading has none. */
function keyIndexStatements(db: Database.Database, crc: string, withMaps: boolean, withPostings: boolean) {
  const candidates = new Map<number, Database.Statement<[Record<string, number | Buffer>], KeyCandidateRow>>()
  const segmentWalks = new Map<string, Database.Statement<[Record<string, number | Buffer>], SegmentHit>>()
  const allBuckets = Array.from({length: BUCKETS}, (_, b) => b).join(', ')
  const partReads = new Map<number, Database.Statement<[Record<string, number>], BatchParts>>()
  return {
    keyIndex: {
      insert: db.prepare('INSERT INTO batch_keys (topic_id, partition, base_offset, record_count, filter) VALUES (?, ?, ?, ?, ?)'),
      /** The row of the batch holding an offset (or the last before it). */
      rowAt: db.prepare<[number, number, number], {base_offset: number; record_count: number}>(
        'SELECT base_offset, record_count FROM batch_keys WHERE topic_id = ? AND partition = ? AND base_offset <= ? ORDER BY base_offset DESC LIMIT 1',
      ),
      filterAt: db.prepare<[number, number, number], {filter: Buffer}>('SELECT filter FROM batch_keys WHERE topic_id = ? AND partition = ? AND base_offset = ?'),
      batchAt: db.prepare<[number, number, number], BatchRow>(
        `SELECT base_offset, record_count, data, ${crc} FROM batches WHERE topic_id = ? AND partition = ? AND base_offset = ?`,
      ),
      /** The rows from an offset, each tested for `wanted` keys (prepared once per number of keys). */
      candidatesFrom(wanted: number) {
        let statement = candidates.get(wanted)
        if (!statement) candidates.set(wanted, (statement = db.prepare(candidateQuery(wanted))))
        return statement
      },
      deleteRow: db.prepare('DELETE FROM batch_keys WHERE topic_id = ? AND partition = ? AND base_offset = ?'),
      deleteTopic: db.prepare('DELETE FROM batch_keys WHERE topic_id = ?'),
      /** Record maps (store version 7 on; key-map.ts): a version 5 or 6 store opened for reading has none. */
      maps: withMaps
        ? {
            insert: db.prepare('INSERT INTO batch_key_map (topic_id, partition, base_offset, map) VALUES (?, ?, ?, ?)'),
            at: db.prepare<[number, number, number], {map: Buffer}>('SELECT map FROM batch_key_map WHERE topic_id = ? AND partition = ? AND base_offset = ?'),
            /**
             * Byte ranges of a batch blob (p0, p1...: 1-based start and length each). substr runs in SQLite,
             * so only the ranges reach JavaScript; one statement per number of ranges.
             */
            partsOf(ranges: number) {
              let statement = partReads.get(ranges)
              if (!statement) {
                const parts = Array.from({length: ranges}, (_, r) => `substr(data, @s${r}, @l${r}) AS p${r}`).join(', ')
                statement = db.prepare(
                  `SELECT record_count, length(data) AS size, ${parts} FROM batches WHERE topic_id = @topic AND partition = @partition AND base_offset = @base`,
                )
                partReads.set(ranges, statement)
              }
              return statement
            },
            deleteRow: db.prepare('DELETE FROM batch_key_map WHERE topic_id = ? AND partition = ? AND base_offset = ?'),
            deleteTopic: db.prepare('DELETE FROM batch_key_map WHERE topic_id = ?'),
          }
        : undefined,
      /** Key postings (store version 8 on; key-postings.ts): a version 5 to 7 store opened for reading has none. */
      postings: withPostings
        ? {
            insert: db.prepare('INSERT INTO batch_key_postings (topic_id, partition, bucket, first_offset, end_offset, postings) VALUES (?, ?, ?, ?, ?, ?)'),
            /**
             * The batches of [from, end) still there: a writer writes its batches' index rows and
             * segments only for those (retention or topic delete may have removed some since).
             */
            batchesIn: db
              .prepare<[number, number, number, number], number>('SELECT base_offset FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= ? AND base_offset < ?')
              .pluck(),
            /**
             * Where the index rows of [from, end) stop answering through the postings, in one scan: `stop`,
             * the end of the rows before the first one that is neither posted nor keyless or that does not
             * follow on from the row before it (a gap: batches of a writer whose rows wait for their
             * segment, or from before the index), null when there is none; `last`, the end of the last row.
             */
            postedRun: db.prepare<[Record<string, number>], {stop: number | null; last: number | null}>(
              `SELECT min(CASE WHEN base_offset <> prev_end OR (length(filter) > 0 AND filter <> X'00') THEN prev_end END) AS stop, max(base_offset + record_count) AS last
               FROM (SELECT base_offset, record_count, filter, lag(base_offset + record_count, 1, @from) OVER (ORDER BY base_offset) AS prev_end
                     FROM batch_keys WHERE topic_id = @topic AND partition = @partition AND base_offset >= @from AND base_offset < @end)`,
            ),
            /** The rows that may hold the keys (key-postings.ts segmentQuery), prepared once per shape. */
            walk(shape: readonly number[]) {
              const key = shape.join(',')
              let statement = segmentWalks.get(key)
              if (!statement) segmentWalks.set(key, (statement = db.prepare(segmentQuery(shape))))
              return statement
            },
            /** The batch holding an offset (its index row), with its record map. */
            batchHolding: db.prepare<[number, number, number], {base_offset: number; record_count: number; map: Buffer | null}>(
              `SELECT k.base_offset, k.record_count, m.map FROM batch_keys k
                 LEFT JOIN batch_key_map m ON m.topic_id = k.topic_id AND m.partition = k.partition AND m.base_offset = k.base_offset
               WHERE k.topic_id = ? AND k.partition = ? AND k.base_offset <= ? ORDER BY k.base_offset DESC LIMIT 1`,
            ),
            /** The segments of a partition, for `spool check`. */
            segments: db.prepare<[number, number], {first_offset: number; end_offset: number}>(
              'SELECT DISTINCT first_offset, end_offset FROM batch_key_postings WHERE topic_id = ? AND partition = ? ORDER BY first_offset',
            ),
            /** A segment's rows: one lookup per bucket, not a walk of the partition. */
            ofSegment: db.prepare<[number, number, number], {bucket: number; end_offset: number; postings: Buffer}>(
              `SELECT bucket, end_offset, postings FROM batch_key_postings WHERE topic_id = ? AND partition = ? AND bucket IN (${allBuckets}) AND first_offset = ? ORDER BY bucket`,
            ),
            /** Segments whose batches retention has all deleted. */
            deleteBefore: db.prepare(`DELETE FROM batch_key_postings WHERE topic_id = ? AND partition = ? AND bucket IN (${allBuckets}) AND first_offset < ? AND end_offset <= ?`),
            deleteTopic: db.prepare('DELETE FROM batch_key_postings WHERE topic_id = ?'),
          }
        : undefined,
    },
  }
}

export type Statements = ReturnType<typeof prepareStatements>
