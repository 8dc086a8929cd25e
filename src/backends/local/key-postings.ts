import {keyHash} from '../../core/key-selection.js'
import {BatchDamage} from './batch-codec.js'

/**
 * Key postings (table batch_key_postings, store version 8): the keyed records of a run of batches that
 * follow on in a partition (a segment), split by key-hash bucket, one row per bucket that holds any.
 *
 *   u32 keyHash[n] | u32 offsetDelta[n]      (little-endian; offset = the segment's first offset + delta)
 *
 * The rows are keyed (topic, partition, bucket, first offset), so one bucket's rows of a partition lie
 * together in offset order: a read by key reads one bucket's range, about 1/64 of the index, where the
 * Bloom filters of version 5 made it read every filter. A posting names its record exactly (a 32-bit
 * hash matches another key's record about once per 2^26 records of a bucket), so a read visits only the
 * batches holding the key and reads only their matching records; the key's bytes decide in the end.
 *
 * A segment is written once per SEGMENT_BATCHES batches, not per batch: a batch's records fall in all
 * 64 buckets, and one row per bucket and batch made each produce transaction rewrite 64 pages of 64 KiB
 * (measured: +28-33% CPU for produce). Until its segment is written, a batch's index row says "pending"
 * and a read by key reads it whole, as it reads a batch from before the index.
 */
export const BUCKET_BITS = 6
export const BUCKETS = 1 << BUCKET_BITS
/** Batches a writer collects before it writes their segment (and at its close, whatever it has). */
export const SEGMENT_BATCHES = 32

/** The filter (batch_keys) of a keyed batch whose keys are in a segment. */
export const POSTED = Buffer.from([0])
/** The filter of a keyed batch whose segment is not written yet: read whole by a read by key. */
export const PENDING = Buffer.from([1])

export const isPosted = (filter: Buffer) => filter.length === 1 && filter[0] === 0
export const isPending = (filter: Buffer) => filter.length === 1 && filter[0] === 1

/**
 * The bucket of a key hash: the top bits of murmur3's finaliser of it. The hash is Kafka's murmur2,
 * which also chose the key's partition (murmur2 mod partitions): mixed first, so that the keys of one
 * partition still spread over every bucket.
 */
export function bucketOf(hash: number): number {
  let h = hash >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> (32 - BUCKET_BITS)
}

/** A batch's keyed records as a segment needs them: their indexes and key hashes. */
export interface BatchKeys {
  baseOffset: number
  count: number
  indexes: Uint32Array
  hashes: Uint32Array
}

/** The keyed records of a batch (a PendingBatch's keys; `hashes`, when given, the partitioner's murmur2); undefined without any. */
export function batchKeys(baseOffset: number, keys: readonly (Uint8Array | null)[] | null, count: number, hashes?: readonly number[] | null): BatchKeys | undefined {
  if (!keys) return undefined
  let keyed = 0
  for (let i = 0; i < count; i++) if (keys[i]) keyed++
  if (keyed === 0) return undefined
  const indexes = new Uint32Array(keyed)
  const keyHashes = new Uint32Array(keyed)
  for (let i = 0, k = 0; i < count; i++) {
    const key = keys[i]
    if (!key) continue
    indexes[k] = i
    keyHashes[k++] = hashes ? hashes[i]! >>> 0 : keyHash(key)
  }
  return {baseOffset, count, indexes, hashes: keyHashes}
}

export interface SegmentRow {
  bucket: number
  postings: Buffer
}

/**
 * The rows of a segment of batches that follow on (each batch's offsets right after the one before), in
 * bucket order, each bucket's postings in offset order. The same bytes from a writer and from `spool
 * check`, which rebuilds them from the batches to compare.
 */
export function segmentRows(batches: readonly BatchKeys[], first = batches[0]!.baseOffset): SegmentRow[] {
  const perBucket = new Uint32Array(BUCKETS)
  let total = 0
  for (const batch of batches)
    for (let k = 0; k < batch.hashes.length; k++) {
      perBucket[bucketOf(batch.hashes[k]!)]!++
      total++
    }
  const all = Buffer.allocUnsafe(total * 8)
  const view = new DataView(all.buffer, all.byteOffset, all.length)
  const hashAt = new Uint32Array(BUCKETS)
  const deltaAt = new Uint32Array(BUCKETS)
  const rows: SegmentRow[] = []
  let at = 0
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    const n = perBucket[bucket]!
    if (n === 0) continue
    hashAt[bucket] = at
    deltaAt[bucket] = at + n * 4
    rows.push({bucket, postings: all.subarray(at, at + n * 8)})
    at += n * 8
  }
  for (const batch of batches) {
    const delta = batch.baseOffset - first
    for (let k = 0; k < batch.hashes.length; k++) {
      const hash = batch.hashes[k]!
      const bucket = bucketOf(hash)
      view.setUint32(hashAt[bucket]!, hash, true)
      view.setUint32(deltaAt[bucket]!, delta + batch.indexes[k]!, true)
      hashAt[bucket]! += 4
      deltaAt[bucket]! += 4
    }
  }
  return rows
}

/**
 * A segment row without its postings of offsets below `from` (those of batches retention deleted), as
 * `spool check` compares it with the row rebuilt from the batches left.
 */
export function postingsFrom(postings: Buffer, first: number, from: number): Buffer {
  const n = postings.length / 8
  const kept: number[] = []
  for (let e = 0; e < n; e++) if (first + postings.readUInt32LE(n * 4 + e * 4) >= from) kept.push(e)
  if (kept.length === n) return postings
  const out = Buffer.alloc(kept.length * 8)
  kept.forEach((e, k) => {
    out.writeUInt32LE(postings.readUInt32LE(e * 4), k * 4)
    out.writeUInt32LE(postings.readUInt32LE(n * 4 + e * 4), kept.length * 4 + k * 4)
  })
  return out
}

/**
 * The offsets in [from, to) of a segment row (its first offset `first`) whose hash is one of `wanted`,
 * in order; one past the segment's end (`segmentEnd`) is damage. A hit counts only where it is a whole hash entry: instr, in SQL, also finds a hash across
 * two entries or among the deltas.
 */
export function postedOffsets(postings: Buffer, first: number, wanted: readonly number[], from: number, to: number, segmentEnd = Number.MAX_SAFE_INTEGER): number[] {
  if (postings.length % 8 !== 0) throw new BatchDamage('its key postings have an unknown format')
  const n = postings.length / 8
  const found: number[] = []
  const pattern = Buffer.alloc(4)
  for (const hash of wanted) {
    pattern.writeUInt32LE(hash >>> 0)
    for (let at = postings.indexOf(pattern); at >= 0 && at < n * 4; at = postings.indexOf(pattern, at + 1)) {
      if (at % 4 !== 0) continue
      const offset = first + postings.readUInt32LE(n * 4 + at)
      if (offset >= segmentEnd) throw new BatchDamage(`its key postings name offset ${offset}, past their segment`)
      if (offset >= from && offset < to) found.push(offset)
    }
  }
  return wanted.length > 1 ? [...new Set(found)].sort((a, b) => a - b) : found
}

/**
 * The segment rows of a partition that may hold one of the keys and reach past @from, below @to, in
 * offset order: for each bucket the keys fall in, a walk of that bucket's rows from the last one that
 * starts at or before @from, which SQLite filters with instr (the 4-byte hash anywhere in the row) and
 * stops at @limit rows. `perBucket` says how many hashes fall in each bucket, in the order of the
 * parameters @b0, @b1... and @h0_0, @h0_1..., @h1_0...
 */
export function segmentQuery(perBucket: readonly number[]): string {
  const walks = perBucket.map((hashes, b) => {
    const match = Array.from({length: hashes}, (_, h) => `instr(postings, @h${b}_${h}) > 0`).join(' OR ')
    const start = `coalesce((SELECT max(first_offset) FROM batch_key_postings WHERE topic_id = @topic AND partition = @partition AND bucket = @b${b} AND first_offset <= @from), @from)`
    return `SELECT * FROM (SELECT ${b} AS walk, first_offset, end_offset, postings FROM batch_key_postings
      WHERE topic_id = @topic AND partition = @partition AND bucket = @b${b} AND first_offset >= ${start} AND first_offset < @to
        AND end_offset > @from AND (${match})
      ORDER BY first_offset LIMIT @limit)`
  })
  return walks.join(' UNION ALL ')
}

/** The parameters of segmentQuery for the (hashed) keys, and its shape (how many hashes per bucket). */
export function segmentParams(wanted: readonly number[]): {shape: number[]; params: Record<string, number | Buffer>} {
  const byBucket = new Map<number, number[]>()
  for (const hash of wanted) {
    const bucket = bucketOf(hash)
    const hashes = byBucket.get(bucket)
    if (hashes) hashes.push(hash)
    else byBucket.set(bucket, [hash])
  }
  const params: Record<string, number | Buffer> = {}
  const shape: number[] = []
  ;[...byBucket].forEach(([bucket, hashes], b) => {
    params[`b${b}`] = bucket
    hashes.forEach((hash, h) => {
      const bytes = Buffer.alloc(4)
      bytes.writeUInt32LE(hash >>> 0)
      params[`h${b}_${h}`] = bytes
    })
    shape.push(hashes.length)
  })
  return {shape, params}
}
