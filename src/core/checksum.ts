import {createRequire} from 'node:module'

type Crc32c = (input: Buffer, initial?: number) => number
let native: Crc32c | undefined

/**
 * CRC-32C (Castagnoli), the checksum of Kafka's record batches and of the local store's batches. The
 * native implementation (@node-rs/crc32, hardware CRC instructions, about 3 GB/s here) loads on first
 * use, so commands that never touch records do not pay for it.
 */
export function crc32c(data: Buffer): number {
  native ??= (createRequire(import.meta.url)('@node-rs/crc32') as {crc32c: Crc32c}).crc32c
  return native(data) >>> 0
}
