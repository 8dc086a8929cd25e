import type Database from 'better-sqlite3'
import {crc32c} from '../../core/checksum.js'
import {SpoolError} from '../../core/errors.js'
import {BatchDamage, StoredBatch} from './batch-codec.js'
import {keyFilter} from './key-index.js'
import {buildKeyMap, buildRecordMap} from './key-map.js'
import {type BatchKeys, batchKeys, isPending, isPosted, postingsFrom, segmentRows} from './key-postings.js'
import type {BatchRow, Statements} from './statements.js'

/** A stored batch (or a run of records) that cannot be read as written. */
export class StoreDamageError extends SpoolError {
  constructor(
    readonly damage: Damage,
    location: string,
  ) {
    super(`store ${location} is damaged: topic '${damage.topic}' partition ${damage.partition}, ${describeRange(damage)}: ${damage.reason}`, {
      hint: `see everything that is damaged with: spool check -b file:${location}`,
    })
  }
}

export interface Damage {
  topic: string
  partition: number
  /** First offset concerned. */
  from: number
  /** Last offset concerned (inclusive). */
  to: number
  reason: string
}

function describeRange(d: Damage): string {
  return d.from === d.to ? `offset ${d.from}` : `offsets ${d.from}-${d.to}`
}

/**
 * A batch row as records, after checking that its bytes are the ones written: the CRC-32C (batches
 * written before store version 3 have none), the blob's structure, and its record count.
 */
export function verifiedBatch(row: BatchRow, topic: string, partition: number, location: string, first = 0, end?: number): StoredBatch {
  const damaged = (reason: string) =>
    new StoreDamageError({topic, partition, from: row.base_offset, to: row.base_offset + Math.max(row.record_count, 1) - 1, reason}, location)
  if (row.crc !== null && crc32c(row.data) !== row.crc) throw damaged('the batch does not match its checksum')
  let batch: StoredBatch
  try {
    batch = new StoredBatch(topic, partition, row.data, row.base_offset, first, end)
  } catch (error) {
    if (error instanceof BatchDamage || error instanceof RangeError) throw damaged(`the batch cannot be read (${error.message})`)
    throw error
  }
  if (batch.recordCount !== row.record_count) throw damaged(`the batch holds ${batch.recordCount} records where its row says ${row.record_count}`)
  return batch
}

export interface ReadPosition {
  topic: string
  partition: number
  location: string
  /** The next offset to hand out. */
  next: number
  /** Where the last batch read ended; undefined before the first. */
  batchEnd: number | undefined
  /** Exclusive end of the read, if bounded. */
  until?: number
}

export interface BatchCheck {
  batches: StoredBatch[]
  /** Thrown once the batches before it are out. */
  damage?: StoreDamageError
  next: number
  batchEnd: number | undefined
}

/**
 * Turns fetched batch rows into verified record windows for a reader at `position`. Batches of a
 * partition follow on without gaps (retention only ever drops a prefix), so a gap or an overlap is damage
 * too. Stops at the first damaged batch and returns what came before it.
 */
export function checkRows(rows: BatchRow[], position: ReadPosition): BatchCheck {
  const {topic, partition, location, until} = position
  let {next, batchEnd} = position
  const batches: StoredBatch[] = []
  for (const row of rows) {
    const expected = batchEnd ?? next
    if (row.base_offset > expected)
      return {batches, next, batchEnd, damage: missingRecords(position, expected, row.base_offset)}
    if (batchEnd !== undefined && row.base_offset < batchEnd)
      return {
        batches,
        next,
        batchEnd,
        damage: new StoreDamageError({topic, partition, from: row.base_offset, to: batchEnd - 1, reason: 'two batches claim the same offsets'}, location),
      }
    const first = Math.max(0, next - row.base_offset)
    const end = until === undefined ? row.record_count : Math.min(row.record_count, until - row.base_offset)
    let batch: StoredBatch
    try {
      batch = verifiedBatch(row, topic, partition, location, first, Math.max(end, first))
    } catch (error) {
      if (error instanceof StoreDamageError) return {batches, next, batchEnd, damage: error}
      throw error
    }
    if (end > first) batches.push(batch)
    next = Math.max(next, row.base_offset + Math.max(end, first))
    batchEnd = row.base_offset + row.record_count
    if (until !== undefined && next >= until) break
  }
  return {batches, next, batchEnd}
}

export function missingRecords(position: Pick<ReadPosition, 'topic' | 'partition' | 'location'>, from: number, to: number): StoreDamageError {
  return new StoreDamageError({topic: position.topic, partition: position.partition, from, to: to - 1, reason: 'records are missing'}, position.location)
}

export interface StoreCheck {
  location: string
  topics: number
  partitions: number
  batches: number
  records: number
  /** Batches written before store version 3, which carry no checksum: checked for structure only. */
  withoutChecksum: number
  /** Batches with a key index row (store version 5 on), each checked against the batch's keys. */
  indexedBatches: number
  /** Of those, batches with a record map (store version 7 on), each rebuilt from the batch and compared. */
  mappedBatches: number
  damage: Damage[]
  /** What SQLite's quick_check found wrong with the file itself ("ok" is left out). */
  sqlite: string[]
}

const CHECK_BATCHES = 8

/** Reads every batch of every partition, as a reader would, and runs SQLite's quick_check. */
export function checkStore(db: Database.Database, s: Statements, location: string): StoreCheck {
  const result: StoreCheck = {location, topics: 0, partitions: 0, batches: 0, records: 0, withoutChecksum: 0, indexedBatches: 0, mappedBatches: 0, damage: [], sqlite: []}
  result.sqlite = (db.pragma('quick_check') as Array<{quick_check: string}>).map((r) => r.quick_check).filter((line) => line !== 'ok')
  for (const topic of s.allTopics.all()) {
    result.topics++
    for (const part of s.partitions.all(topic.id)) {
      result.partitions++
      let at = part.start_offset
      let expected = part.start_offset
      // Key postings (store version 8): each segment is rebuilt from its posted batches as the walk
      // passes them, and compared row by row (without the postings of batches retention deleted).
      const postings = s.keyIndex?.postings
      const segments = postings?.segments.all(topic.id, part.partition) ?? []
      let segment = 0
      let inSegment: BatchKeys[] = []
      const finishSegment = () => {
        const {first_offset: first, end_offset: end} = segments[segment++]!
        const batches = inSegment
        inSegment = []
        if (batches.length === 0) return
        const cut = batches[0]!.baseOffset
        const stored = postings!.ofSegment
          .all(topic.id, part.partition, first)
          .map((r) => ({...r, postings: postingsFrom(r.postings, first, cut)}))
          .filter((r) => r.postings.length > 0)
        const last = batches.at(-1)!
        const rebuilt = segmentRows(batches, first)
        const same =
          last.baseOffset + last.count === end &&
          stored.length === rebuilt.length &&
          stored.every((r, i) => r.bucket === rebuilt[i]!.bucket && r.end_offset === end && r.postings.equals(rebuilt[i]!.postings))
        if (!same)
          result.damage.push({topic: topic.name, partition: part.partition, from: cut, to: end - 1, reason: 'the key postings do not match the keys of their batches (reads by --key may miss their records)'})
      }
      for (;;) {
        const rows = s.batchesFrom.all(topic.id, part.partition, at, CHECK_BATCHES)
        for (const row of rows) {
          result.batches++
          if (row.crc === null) result.withoutChecksum++
          if (row.base_offset > expected)
            result.damage.push({topic: topic.name, partition: part.partition, from: expected, to: row.base_offset - 1, reason: 'records are missing'})
          else if (row.base_offset < expected)
            result.damage.push({topic: topic.name, partition: part.partition, from: row.base_offset, to: expected - 1, reason: 'two batches claim the same offsets'})
          try {
            const batch = verifiedBatch(row, topic.name, part.partition, location)
            result.records += row.record_count
            if (s.keyIndex) {
              // A filter that lacks a key of its batch would hide the key's records from reads by key.
              // Batches without a row (written before the index) are read whole by those reads.
              const indexed = s.keyIndex.filterAt.get(topic.id, part.partition, row.base_offset)
              if (indexed) {
                result.indexedBatches++
                const keys = Array.from({length: batch.count}, (_, i) => batch.keyAt(i))
                const damaged = (reason: string) =>
                  result.damage.push({topic: topic.name, partition: part.partition, from: row.base_offset, to: row.base_offset + Math.max(row.record_count, 1) - 1, reason})
                // Store version 8: the filter only says whether the keys are posted yet; a posted batch's
                // keys are checked with its segment's postings, below.
                const version8 = isPosted(indexed.filter) || isPending(indexed.filter)
                const keyed = version8 ? batchKeys(row.base_offset, keys, batch.count) : undefined
                if (version8 ? !keyed : !keyFilter(keys, batch.count).equals(indexed.filter))
                  damaged('the key index does not match the keys of the batch (reads by --key may miss its records)')
                else if (keyed && isPosted(indexed.filter)) {
                  while (segment < segments.length && segments[segment]!.end_offset <= row.base_offset) finishSegment()
                  const current = segments[segment]
                  if (current && current.first_offset <= row.base_offset) inSegment.push(keyed)
                  else damaged('the key postings do not hold the keys of the batch (reads by --key may miss its records)')
                }
                // The record map (store version 7): its chunk checksums, key hashes and record positions
                // are what a read by key trusts instead of reading the batch whole; rebuilt from the batch
                // (checked above) and compared byte for byte.
                const mapped = s.keyIndex.maps?.at.get(topic.id, part.partition, row.base_offset)
                if (mapped) {
                  result.mappedBatches++
                  if (!(version8 ? buildRecordMap(row.data) : buildKeyMap(row.data, keys)).equals(mapped.map))
                    damaged('the key map does not match the batch: its chunk checksums, key hashes or record positions differ (reads by --key may fail or miss its records)')
                }
              }
            }
          } catch (error) {
            if (!(error instanceof StoreDamageError)) throw error
            result.damage.push(error.damage)
          }
          expected = row.base_offset + row.record_count
          at = row.base_offset + 1
        }
        if (rows.length < CHECK_BATCHES) break
      }
      while (segment < segments.length) finishSegment()
      if (expected < part.next_offset)
        result.damage.push({topic: topic.name, partition: part.partition, from: expected, to: part.next_offset - 1, reason: 'records are missing'})
    }
  }
  return result
}
