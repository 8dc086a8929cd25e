import {createRequire} from 'node:module'

type Crc32c = (input: Buffer, initial?: number) => number
let native: Crc32c | undefined

/** Below this many bytes a checksum is computed in JavaScript until the native module is loaded. */
export const NATIVE_FROM_BYTES = 64 * 1024

/**
 * CRC-32C (Castagnoli), the checksum of Kafka's record batches and of the local store's batches. The
 * native implementation (@node-rs/crc32, hardware CRC instructions, about 3 GB/s here) loads on the first
 * large input: loading it costs 5-15 ms of start-up (its loader probes for the platform's package), more
 * than a table-driven CRC in JavaScript takes for the small batches of a one-record produce or of a short
 * consume. Both give the same value (test/unit/checksum.test.ts). `previous` continues a checksum:
 * crc32c(b, crc32c(a)) is the CRC-32C of a followed by b, for data sent in parts.
 */
export function crc32c(data: Buffer, previous = 0): number {
  if (native === undefined && data.length < NATIVE_FROM_BYTES) return crc32cJs(data, previous)
  native ??= loadNative()
  return native(data, previous) >>> 0
}

/**
 * CRC-32C by the native implementation, loaded now if it is not yet: for a caller about to check many
 * small inputs (a read by key checks thousands of 2 KiB chunks), where the JavaScript loop, run too few
 * times to be optimised, costs more than loading the module.
 */
export function crc32cNative(data: Buffer): number {
  native ??= loadNative()
  return native(data) >>> 0
}

/**
 * The native CRC-32C, from the platform's build of @node-rs/crc32 where that is a glibc Linux one. The
 * package's own loader (napi-rs' generated index.js) first reads /usr/bin/ldd to tell glibc from musl,
 * tries a .node file the package does not ship, then requires the platform package and its package.json:
 * 9-11 ms of CPU here, against 3 ms for requiring the build directly, paid by every read that checks
 * more than 64 KiB (a read by key of a hundred records: a tenth of its time). The loader stays the
 * fallback: on musl the -gnu package is not installed (its package.json says libc glibc), and on any
 * other platform, or if the direct require fails, the package decides as before. Required from here,
 * not resolved from the package's own directory (which would also find a nested copy): that resolution
 * cost about 2 ms more, and a nested copy only falls back to the loader.
 */
function loadNative(): Crc32c {
  const require = createRequire(import.meta.url)
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    try {
      return (require(`@node-rs/crc32-linux-${process.arch}-gnu`) as {crc32c: Crc32c}).crc32c
    } catch {
      // Not installed here (musl, or a layout that nests it): the package's loader finds what is.
    }
  }
  return (require('@node-rs/crc32') as {crc32c: Crc32c}).crc32c
}

let tables: Uint32Array | undefined

/** Slicing-by-8 over the reflected polynomial 0x82F63B78: eight 256-entry tables, 8 bytes a step. */
export function crc32cJs(data: Uint8Array, previous = 0): number {
  const t = (tables ??= makeTables())
  let crc = ~previous >>> 0
  let i = 0
  const end8 = data.length - (data.length % 8)
  for (; i < end8; i += 8) {
    const lo = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0
    const hi = (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)) >>> 0
    crc =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^
      t[512 + ((hi >>> 8) & 0xff)]! ^
      t[256 + ((hi >>> 16) & 0xff)]! ^
      t[hi >>> 24]!
  }
  for (; i < data.length; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

function makeTables(): Uint32Array {
  const t = new Uint32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!
  return t
}

/** a * b modulo the CRC-32C polynomial, both reflected (bit 31 is x^0), as zlib's multmodp. */
function multiplyModP(a: number, b: number): number {
  let m = 0x80000000
  let p = 0
  for (;;) {
    if (a & m) {
      p ^= b
      if ((a & (m - 1)) === 0) break
    }
    m >>>= 1
    b = b & 1 ? (b >>> 1) ^ 0x82f63b78 : b >>> 1
  }
  return p >>> 0
}

/** x^(2^n) modulo the polynomial, n = 0..31. */
let powers: Uint32Array | undefined

/** x^(8 * bytes) modulo the polynomial: what appending `bytes` bytes does to a CRC. */
function shiftOperator(bytes: number): number {
  if (!powers) {
    powers = new Uint32Array(32)
    powers[0] = 0x40000000
    for (let n = 1; n < 32; n++) powers[n] = multiplyModP(powers[n - 1]!, powers[n - 1]!)
  }
  let p = 0x80000000
  for (let n = bytes, k = 3; n > 0; n = Math.floor(n / 2), k++) if (n % 2) p = multiplyModP(powers[k & 31]!, p)
  return p
}

/**
 * The CRC-32C of equal-sized parts back to back (the last may be shorter), from the parts' own CRCs,
 * as zlib's crc32_combine: a batch keyed for the key index has a CRC per 8 KiB chunk anyway (its record
 * map), and deriving the whole batch's from them is cheaper than a second pass over its bytes.
 */
export function crc32cOfParts(crcs: ArrayLike<number>, partSize: number, totalSize: number): number {
  if (crcs.length === 0) return 0
  const whole = shiftOperator(partSize)
  let crc = crcs[0]! >>> 0
  for (let i = 1; i < crcs.length; i++) {
    const size = i === crcs.length - 1 ? totalSize - partSize * i : partSize
    crc = (multiplyModP(size === partSize ? whole : shiftOperator(size), crc) ^ crcs[i]!) >>> 0
  }
  return crc
}
