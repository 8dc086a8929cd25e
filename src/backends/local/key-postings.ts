import {keyHash} from '../../core/key-selection.js'
import {BatchDamage} from './batch-codec.js'

/**
 * Key postings (table batch_key_postings, store version 8): the keyed records of a run of batches that
 * follow on in a partition (a segment), split by key-hash bucket, one row per bucket that holds any.
 *
 *   u24 tag[n] | u24 offsetDelta[n]      (little-endian; offset = the segment's first offset + delta)
 *
 * A key's 32-bit murmur2 is mixed (murmur3's finaliser, a bijection); the top 6 bits of the mix are its
 * bucket and the low 24 its tag, so bucket and tag tell a key from another's records about once per 2^30.
 * The rows are keyed (topic, partition, bucket, first offset), so one bucket's rows of a partition lie
 * together in offset order: a read by key reads one bucket's range, about 1/64 of the index, where the
 * Bloom filters of version 5 made it read every filter. A posting names its record's offset, so a read
 * visits only the batches holding the key and reads only the records named; the key's bytes decide.
 *
 * A segment is written once per SEGMENT_BATCHES batches, not per batch: a batch's records fall in all
 * 64 buckets, and one row per bucket and batch made each produce transaction rewrite 64 pages of 64 KiB
 * (measured: +28-33% CPU for produce). Until its segment is written, a batch's index row says "pending"
 * and a read by key reads it whole, as it reads a batch from before the index.
 */
export const BUCKET_BITS = 6
export const BUCKETS = 1 << BUCKET_BITS
/**
 * Batches a writer collects before it writes their segment (and at its close, whatever it has): a row
 * of 64 batches is about 50 KB, one overflow page, so a segment writes about two pages of 64 KiB per
 * batch; fewer batches per segment write more (every row rewrites a leaf page of its bucket).
 */
export const SEGMENT_BATCHES = 64
/** Offsets a segment spans at most: its deltas are 24-bit. */
export const SEGMENT_SPAN = 1 << 24

/** The filter (batch_keys) of a keyed batch whose keys are in a segment. */
export const POSTED = Buffer.from([0])
/** The filter of a keyed batch whose segment is not written yet: read whole by a read by key. */
export const PENDING = Buffer.from([1])

export const isPosted = (filter: Buffer) => filter.length === 1 && filter[0] === 0
export const isPending = (filter: Buffer) => filter.length === 1 && filter[0] === 1

/**
 * murmur3's finaliser of a key's murmur2. The murmur2 also chose the key's partition (murmur2 mod
 * partitions): mixed first, so that the keys of one partition still spread over every bucket.
 */
function mix(hash: number): number {
  let h = hash >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

export const bucketOf = (hash: number): number => mix(hash) >>> (32 - BUCKET_BITS)
const tagOf = (hash: number): number => mix(hash) & 0xffffff

/**
 * A batch's keyed records as a segment needs them: each one's mixed key hash (bucket and tag in one
 * value) and, when some records have no key, the keyed records' indexes (else record k is index k). One
 * typed array written per record: three (index, bucket, tag) cost produce three times as much here.
 */
export interface BatchKeys {
  baseOffset: number
  count: number
  mixed: Uint32Array
  indexes: Uint32Array | undefined
}

/** The keyed records of a batch (a PendingBatch's keys; `hashes`, when given, the partitioner's murmur2); undefined without any. */
export function batchKeys(baseOffset: number, keys: readonly (Uint8Array | null)[] | null, count: number, hashes?: readonly number[] | null): BatchKeys | undefined {
  if (!keys) return undefined
  const mixed = new Uint32Array(count)
  let k = 0
  // Every record keyed, the partitioner's hashes at hand: the loop of a keyed produce, kept to that.
  if (hashes) while (k < count && keys[k] !== null) mixed[k] = mix(hashes[k++]!)
  if (k === count) return {baseOffset, count, mixed, indexes: undefined}
  const indexes = new Uint32Array(count)
  for (let j = 0; j < k; j++) indexes[j] = j
  for (let i = k; i < count; i++) {
    const key = keys[i]
    if (!key) continue
    indexes[k] = i
    mixed[k++] = mix(hashes ? hashes[i]! : keyHash(key))
  }
  if (k === 0) return undefined
  if (k === count) return {baseOffset, count, mixed, indexes: undefined}
  return {baseOffset, count, mixed: mixed.slice(0, k), indexes: indexes.slice(0, k)}
}

export interface SegmentRow {
  bucket: number
  postings: Buffer
}

const BUCKET_SHIFT = 32 - BUCKET_BITS

/**
 * The rows of a segment of batches that follow on (each batch's offsets right after the one before), in
 * bucket order, each bucket's postings in offset order; `first` is the segment's first offset. The same
 * bytes from a writer and from `spool check`, which rebuilds them from the batches to compare.
 */
export function segmentRows(batches: readonly BatchKeys[], first = batches[0]!.baseOffset): SegmentRow[] {
  const perBucket = new Uint32Array(BUCKETS)
  let total = 0
  for (const batch of batches) {
    const mixed = batch.mixed
    for (let k = 0; k < mixed.length; k++) perBucket[mixed[k]! >>> BUCKET_SHIFT]!++
    total += mixed.length
  }
  const all = new Uint8Array(total * 6)
  const tagAt = new Uint32Array(BUCKETS)
  const deltaAt = new Uint32Array(BUCKETS)
  const bounds: Array<[number, number, number]> = []
  let at = 0
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    const n = perBucket[bucket]!
    if (n === 0) continue
    tagAt[bucket] = at
    deltaAt[bucket] = at + n * 3
    bounds.push([bucket, at, at + n * 6])
    at += n * 6
  }
  for (const batch of batches) {
    const {mixed, indexes} = batch
    const delta = batch.baseOffset - first
    for (let k = 0; k < mixed.length; k++) {
      const h = mixed[k]!
      const bucket = h >>> BUCKET_SHIFT
      const t = tagAt[bucket]!
      all[t] = h
      all[t + 1] = h >> 8
      all[t + 2] = h >> 16
      tagAt[bucket] = t + 3
      const d = delta + (indexes ? indexes[k]! : k)
      const o = deltaAt[bucket]!
      all[o] = d
      all[o + 1] = d >> 8
      all[o + 2] = d >> 16
      deltaAt[bucket] = o + 3
    }
  }
  const bytes = Buffer.from(all.buffer, all.byteOffset, all.length)
  return bounds.map(([bucket, start, end]) => ({bucket, postings: bytes.subarray(start, end)}))
}

const u24 = (bytes: Buffer, at: number) => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)

/**
 * A segment row without its postings of offsets below `from` (those of batches retention deleted), as
 * `spool check` compares it with the row rebuilt from the batches left.
 */
export function postingsFrom(postings: Buffer, first: number, from: number): Buffer {
  const n = postings.length / 6
  const kept: number[] = []
  for (let e = 0; e < n; e++) if (first + u24(postings, n * 3 + e * 3) >= from) kept.push(e)
  if (kept.length === n) return postings
  const out = Buffer.alloc(kept.length * 6)
  kept.forEach((e, k) => {
    postings.copy(out, k * 3, e * 3, e * 3 + 3)
    postings.copy(out, kept.length * 3 + k * 3, n * 3 + e * 3, n * 3 + e * 3 + 3)
  })
  return out
}

/** The 3-byte tag a segment row holds for a key hash: what SQL's instr looks for. */
export function tagBytes(hash: number): Buffer {
  const tag = tagOf(hash)
  return Buffer.from([tag & 0xff, (tag >>> 8) & 0xff, (tag >>> 16) & 0xff])
}

/**
 * The offsets in [from, to) of a segment row (its first offset `first`) whose tag is one of `wanted`'s
 * (key hashes of the row's bucket), in order; one past the segment's end (`segmentEnd`) is damage. A hit
 * counts only where it is a whole entry: instr, in SQL, also finds a tag across two entries or among
 * the deltas.
 */
export function postedOffsets(postings: Buffer, first: number, wanted: readonly number[], from: number, to: number, segmentEnd = Number.MAX_SAFE_INTEGER): number[] {
  if (postings.length % 6 !== 0) throw new BatchDamage('its key postings have an unknown format')
  const n = postings.length / 6
  const found: number[] = []
  for (const hash of wanted) {
    const pattern = tagBytes(hash)
    for (let at = postings.indexOf(pattern); at >= 0 && at < n * 3; at = postings.indexOf(pattern, at + 1)) {
      if (at % 3 !== 0) continue
      const offset = first + u24(postings, n * 3 + at)
      if (offset >= segmentEnd) throw new BatchDamage(`its key postings name offset ${offset}, past their segment`)
      if (offset >= from && offset < to) found.push(offset)
    }
  }
  return wanted.length > 1 ? [...new Set(found)].sort((a, b) => a - b) : found
}

/**
 * The segment rows of a partition that may hold one of the keys and reach past @from, below @to, in
 * offset order: for each bucket the keys fall in, a walk of that bucket's rows from the last one that
 * starts at or before @from, which SQLite filters with instr (the 3-byte tag anywhere in the row) and
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
    hashes.forEach((hash, h) => (params[`h${b}_${h}`] = tagBytes(hash)))
    shape.push(hashes.length)
  })
  return {shape, params}
}
