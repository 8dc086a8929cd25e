import {keyHash} from '../../core/key-selection.js'

/**
 * A batch's row of the key index (table batch_keys): a Bloom filter of its keys' hashes.
 *
 *   u8 probes | bits (little-endian bytes; bit i of the filter is bit i % 8 of byte 1 + i / 8)
 *
 * Empty for a batch without keys. 10 bits per keyed record and 4 probes give about 1.2% false positives
 * (a batch decoded for nothing) and no false negatives. A probe's bit is (probe * bits) / 2^32, which
 * spreads it over the filter without a division. A filter is a third of the size of the sorted
 * 32-bit hashes it replaced, and a read by key reads every filter of a partition, so the size is what
 * a lookup pays for; building one is a few bit sets per record, with no sort (docs/ARCHITECTURE.md).
 */
const BITS_PER_KEY = 10
const PROBES = 4
const TWO_TO_32 = 4294967296
const NO_KEYS = Buffer.alloc(0)

/** The second hash of double hashing, derived from the first so a record is hashed once. */
function step(hash: number): number {
  let h = Math.imul(hash ^ (hash >>> 16), 0x45d9f3b)
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b)
  return ((h ^ (h >>> 16)) | 1) >>> 0
}

/**
 * The filter of a batch's keys (a PendingBatch's `keys`: null when no record has one). `hashes`, when
 * given, holds each key's murmur2 (a PendingBatch's `keyHashes`, from the partitioner), so a produce
 * hashes a key once.
 */
export function keyFilter(keys: readonly (Uint8Array | null)[] | null, count: number, hashes?: readonly number[] | null): Buffer {
  if (!keys) return NO_KEYS
  let keyed = 0
  for (let i = 0; i < count; i++) if (keys[i]) keyed++
  if (keyed === 0) return NO_KEYS
  const bytes = Math.max(8, Math.ceil((keyed * BITS_PER_KEY) / 8))
  const filter = Buffer.alloc(1 + bytes)
  filter[0] = PROBES
  // probe * (bits / 2^32) is the same number as (probe * bits) / 2^32 (a division by a power of two is
  // exact, so both round the product once), without a division per probe; below 2^24, | 0 is floor.
  const scale = (bytes * 8) / TWO_TO_32
  for (let i = 0; i < count; i++) {
    const key = keys[i]
    if (!key) continue
    const hash = hashes ? hashes[i]! >>> 0 : keyHash(key)
    const delta = step(hash)
    let probe = hash
    for (let p = 0; p < PROBES; p++) {
      const bit = (probe * scale) | 0
      filter[1 + (bit >>> 3)]! |= 1 << (bit & 7)
      probe = (probe + delta) >>> 0
    }
  }
  return filter
}

/** Whether a batch whose index row holds `filter` may hold a record with one of the (hashed) keys. */
export function mayHoldKey(filter: Buffer, wanted: readonly number[]): boolean {
  if (filter.length < 2) return false
  const probes = filter[0]!
  const bits = (filter.length - 1) * 8
  next: for (const hash of wanted) {
    const delta = step(hash)
    let probe = hash
    for (let p = 0; p < probes; p++) {
      const bit = Math.floor((probe * bits) / TWO_TO_32)
      if ((filter[1 + (bit >>> 3)]! & (1 << (bit & 7))) === 0) continue next
      probe = (probe + delta) >>> 0
    }
    return true
  }
  return false
}

/** Every byte value in order: instr(BYTE_VALUES, b) - 1 is the value of the one-byte blob b in SQL. */
const BYTE_VALUES = Buffer.from(Array.from({length: 256}, (_, i) => i))

/**
 * A query that walks a partition's index rows from an offset and tests each filter for `wanted` keys
 * inside SQLite: `maybe` is 1 when the filter may hold one of them, 0 when it holds none, null when the
 * filter was built with another number of probes (then test it with mayHoldKey); for a batch of store
 * version 8, 2 when its keys are in key postings, 3 when they are not yet (key-postings.ts). Handing every filter
 * to JavaScript to test it there cost five times as much as the test in SQLite: the filters are most of
 * a lookup's bytes, and SQLite reads only the bytes the probes name.
 */
export function candidateQuery(wanted: number): string {
  const bits = '((length(filter) - 1) * 8)'
  const probe = (k: number, p: number) => {
    const bit = `((@h${k}_${p} * ${bits}) >> 32)`
    return `(((instr(@bytes, substr(filter, 2 + (${bit} >> 3), 1)) - 1) >> (${bit} & 7)) & 1)`
  }
  const keys = Array.from({length: wanted}, (_, k) => `(${Array.from({length: PROBES}, (_, p) => probe(k, p)).join(' AND ')})`)
  return `SELECT base_offset, record_count,
      CASE WHEN filter = X'00' THEN 2 WHEN filter = X'01' THEN 3 WHEN length(filter) < 2 THEN 0 WHEN substr(filter, 1, 1) <> X'${PROBES.toString(16).padStart(2, '0')}' THEN NULL
        ELSE (${keys.join(' OR ')}) END AS maybe
    FROM batch_keys WHERE topic_id = @topic AND partition = @partition AND base_offset >= @from ORDER BY base_offset LIMIT @limit`
}

/** The probes of candidateQuery for the (hashed) keys: the positions keyFilter set, as fractions of 2^32. */
export function candidateProbes(wanted: readonly number[]): Record<string, number | Buffer> {
  const params: Record<string, number | Buffer> = {bytes: BYTE_VALUES}
  wanted.forEach((hash, k) => {
    const delta = step(hash)
    let probe = hash
    for (let p = 0; p < PROBES; p++) {
      params[`h${k}_${p}`] = probe
      probe = (probe + delta) >>> 0
    }
  })
  return params
}
