import {keyHash} from '../../core/key-selection.js'
import type {PendingBatch} from '../../core/record.js'

const NO_KEYS = Buffer.alloc(0)

/**
 * A batch's row of the key index (table batch_keys): the sorted distinct hashes of its keys, 4 bytes each,
 * little-endian. A typed-array sort of one batch's hashes costs far less than one index row per record
 * would (docs/BENCHMARKS.md, "Find by key").
 */
export function keyHashes(batch: PendingBatch): Buffer {
  const keys = batch.keys
  if (!keys) return NO_KEYS
  const hashes = new Uint32Array(batch.count)
  let n = 0
  for (let i = 0; i < batch.count; i++) {
    const key = keys[i]
    if (key) hashes[n++] = keyHash(key)
  }
  if (n === 0) return NO_KEYS
  const sorted = hashes.subarray(0, n).sort()
  let distinct = 1
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[distinct - 1]) sorted[distinct++] = sorted[i]!
  const out = Buffer.allocUnsafe(distinct * 4)
  for (let i = 0; i < distinct; i++) out.writeUInt32LE(sorted[i]!, i * 4)
  return out
}

/** Whether a batch whose index row holds `hashes` may hold a record with one of the (hashed) keys. */
export function mayHoldKey(hashes: Buffer, wanted: readonly number[]): boolean {
  const count = hashes.length >>> 2
  for (const hash of wanted) {
    let low = 0
    let high = count - 1
    while (low <= high) {
      const mid = (low + high) >>> 1
      const at = hashes.readUInt32LE(mid * 4)
      if (at === hash) return true
      if (at < hash) low = mid + 1
      else high = mid - 1
    }
  }
  return false
}
