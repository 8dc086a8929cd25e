import {NATIVE_FROM_BYTES, crc32c, crc32cNative, crc32cOfParts} from '../../core/checksum.js'
import {keyHash} from '../../core/key-selection.js'
import type {FeedRecord, Header} from '../../core/record.js'
import {BATCH_HEADER_BYTES, BatchDamage, batchLayout, decodeHeaders, lengthColumn} from './batch-codec.js'

/**
 * A keyed batch's record map (table batch_key_map, store version 7): what a read by key needs to read
 * only the part of a batch holding the records it wants, instead of the whole ~1 MiB blob.
 *
 *   u8 format (1, or 2 from store version 8) | u8 chunkShift | u8 groupShift | u8 batch flags
 *   u32 blob length | u32 record count
 *   u32 groupStart[columns][groups + 1]   where each group of 2^groupShift records' bytes start in each
 *                                         data column (values, then keys and headers as the batch has
 *                                         them); the last entry is the column's end
 *   u32 CRC-32C of the above
 *   u32 chunkCrc[ceil(length / 2^chunkShift)]   CRC-32C of each 2^chunkShift bytes of the blob
 *   u16 keyHash[count]                    format 1 only: the low 16 bits of each record's key murmur2 (0
 *                                         for a null key); in format 2 the key postings name the records
 *
 * The key hashes name the records that may hold a key (the key's bytes then decide), so a batch the Bloom
 * filter named by mistake costs this row and no blob. The group starts say where a record's group lies in
 * each column, so a record is located from its group's length entries alone. The chunk checksums let a
 * reader check just the chunks it read: every byte handed out is checked, as a whole-batch read checks
 * it, at a few KiB per record instead of the whole batch.
 *
 * The map's own checksum covers what could make a reader hand out wrong bytes without noticing (the
 * header and the group starts), not the rest, which a reader would otherwise checksum on every lookup: a
 * damaged chunk checksum fails the read (a false alarm, never wrong bytes), and a damaged key hash can
 * only hide a record, as a damaged Bloom filter bit can; `spool check` rebuilds every map and finds both.
 */
const FORMAT = 1
/** Format 2 (store version 8): no key hashes. */
const POSTED_FORMAT = 2
const MAP_HEADER = 12
/**
 * 8 KiB chunks: a record's group of 64 (timestamps, two length columns, values, keys) is checked in
 * about 5 of them, 40 KiB, against the whole ~1 MiB batch; 512 bytes of checksums per 1 MiB batch.
 * Produce computes 128 checksums per MiB: with 1 KiB chunks the 1,024 calls (measured: 0.7 ms a batch of
 * 8,500 records against 0.43 ms with 8 KiB) cost produce several percent of its CPU.
 */
export const CHUNK_SHIFT = 13
/** 64 records: a group's length entries (256 bytes a column) fit one chunk; its starts cost 8 bytes a column. */
export const GROUP_SHIFT = 6

/** A parsed record map. */
export interface KeyMap {
  chunkShift: number
  groupShift: number
  flags: number
  blobLength: number
  count: number
  chunks: number
  groups: number
  columns: number
  /** Byte offset in the map of the group starts, the chunk checksums and the key hashes. */
  groupAt: number
  crcAt: number
  hashAt: number
  /** Whether the map holds a key hash per record (format 1); format 2 leaves that to the key postings. */
  hashes: boolean
  raw: Buffer
}

/**
 * Bytes a reader checksums in JavaScript before it loads the native CRC-32C: a lookup that reads a few
 * batches' chunks does not pay the module's load (5-15 ms); one that reads a hundred (a key with a
 * record in each) is done with the JavaScript loop, which is run too few times to be optimised, sooner.
 */
const CHECK_IN_JS = 64 * 1024
let checkedInJs = 0

/**
 * Says that a read is about to check more chunks than CHECK_IN_JS (a read by key with several batches
 * named by key postings): the native CRC-32C from the first byte, not after 64 KiB of the cold loop.
 */
export function manyChunksAhead(): void {
  checkedInJs = CHECK_IN_JS
}

function checksum(bytes: Buffer): number {
  if (checkedInJs >= CHECK_IN_JS) return crc32cNative(bytes)
  checkedInJs += bytes.length
  return crc32c(bytes)
}

/** How many data columns a batch with these flags has: values, then keys and headers if present. */
function columnCount(flags: number): number {
  return 1 + (flags & 1 ? 1 : 0) + (flags & 2 ? 1 : 0)
}

/**
 * The map of an encoded batch (batch-codec.ts) whose records have these keys; `hashes`, when given, are
 * the keys' murmur2 (the partitioner's). The same bytes from produce and from `spool check`, which
 * rebuilds it from the blob to compare. Format 1, with a 16-bit key hash per record (store version 7).
 */
export function buildKeyMap(blob: Buffer, keys: readonly (Uint8Array | null)[], hashes?: readonly number[] | null): Buffer {
  const {map, at, count} = buildMap(blob, FORMAT, (count) => count * 2)
  let hashAt = at
  for (let i = 0; i < count; i++, hashAt += 2) {
    const key = keys[i]
    const hash = !key ? 0 : hashes ? hashes[i]! : keyHash(key)
    map[hashAt] = hash & 0xff
    map[hashAt + 1] = (hash >>> 8) & 0xff
  }
  return map
}

/**
 * The record map of store version 8 (format 2): the group starts and chunk checksums alone, without key
 * hashes, since the key postings (key-postings.ts) name the records exactly. About 2 KiB for a 1 MiB
 * batch of 8,500 records, against 19 KiB with the hashes: it stays inside its row's page.
 */
export function buildRecordMap(blob: Buffer): Buffer {
  return buildMap(blob, POSTED_FORMAT, () => 0).map
}

/**
 * buildRecordMap, and the CRC-32C of the whole blob derived from the map's chunk checksums (which end a
 * map of format 2): a produce then reads a keyed batch's bytes once for both, not twice.
 */
export function recordMapAndChecksum(blob: Buffer): {map: Buffer; crc: number} {
  const {map, at} = buildMap(blob, POSTED_FORMAT, () => 0)
  const chunks = Math.ceil(blob.length / (1 << CHUNK_SHIFT))
  const crcs = new Uint32Array(chunks)
  for (let c = 0, from = at - chunks * 4; c < chunks; c++) crcs[c] = map.readUInt32LE(from + c * 4)
  return {map, crc: crc32cOfParts(crcs, 1 << CHUNK_SHIFT, blob.length)}
}

/** A map's header, group starts, their checksum and the chunk checksums, with `extra(count)` bytes after them. */
function buildMap(blob: Buffer, format: number, extra: (count: number) => number): {map: Buffer; at: number; count: number} {
  const layout = batchLayout(blob)
  const {count, flags} = layout
  const chunkSize = 1 << CHUNK_SHIFT
  const chunks = Math.ceil(blob.length / chunkSize)
  const groups = Math.ceil(count / (1 << GROUP_SHIFT))
  const columns = columnCount(flags)
  const crcAt = MAP_HEADER + columns * (groups + 1) * 4 + 4
  const map = Buffer.allocUnsafe(crcAt + chunks * 4 + extra(count))
  map[0] = format
  map[1] = CHUNK_SHIFT
  map[2] = GROUP_SHIFT
  map[3] = flags
  map.writeUInt32LE(blob.length, 4)
  map.writeUInt32LE(count, 8)
  let at = MAP_HEADER
  let data = layout.dataStart
  for (let column = 0; column < columns; column++) {
    const lengths = lengthColumn(blob, layout.lengthsStart + column * count * 4, count)
    for (let g = 0; g < groups; g++, at += 4) {
      map.writeUInt32LE(data, at)
      const last = Math.min(count, (g + 1) << GROUP_SHIFT)
      for (let i = g << GROUP_SHIFT; i < last; i++) {
        const length = lengths[i]!
        if (length > 0) data += length
      }
    }
    map.writeUInt32LE(data, at)
    at += 4
  }
  map.writeUInt32LE(crc32c(map.subarray(0, at)), at)
  at += 4
  // A large batch's chunks by the native CRC-32C, as its whole checksum would be (crc32c loads it only
  // for a large input, and a produce of keyed batches no longer computes that whole checksum itself).
  const chunkChecksum = blob.length >= NATIVE_FROM_BYTES ? crc32cNative : crc32c
  for (let c = 0; c < chunks; c++, at += 4) map.writeUInt32LE(chunkChecksum(blob.subarray(c * chunkSize, Math.min(blob.length, (c + 1) * chunkSize))), at)
  return {map, at, count}
}

/** A record map read back, after checking its header and group starts and that it describes a batch of `count` records. */
export function parseKeyMap(raw: Buffer, count: number): KeyMap {
  const format = raw[0]
  if (raw.length < MAP_HEADER + 4 || (format !== FORMAT && format !== POSTED_FORMAT)) throw new BatchDamage('its key map has an unknown format')
  const chunkShift = raw[1]!
  const groupShift = raw[2]!
  const flags = raw[3]!
  const blobLength = raw.readUInt32LE(4)
  const mapped = raw.readUInt32LE(8)
  const chunks = Math.ceil(blobLength / 2 ** chunkShift)
  const groups = Math.ceil(mapped / 2 ** groupShift)
  const columns = columnCount(flags)
  const groupAt = MAP_HEADER
  const crcAt = groupAt + columns * (groups + 1) * 4 + 4
  const hashAt = crcAt + chunks * 4
  const hashes = format === FORMAT
  if (hashAt + (hashes ? mapped * 2 : 0) !== raw.length) throw new BatchDamage('its key map does not fit its size')
  if (checksum(raw.subarray(0, crcAt - 4)) !== raw.readUInt32LE(crcAt - 4)) throw new BatchDamage('its key map does not match its checksum')
  if (mapped !== count) throw new BatchDamage(`its key map holds ${mapped} records where its row says ${count}`)
  return {chunkShift, groupShift, flags, blobLength, count, chunks, groups, columns, groupAt, crcAt, hashAt, hashes, raw}
}

/**
 * The indexes in [first, end) whose key hash is one of `wanted`: every record that may hold a wanted key.
 * Searched with Buffer.indexOf (native), a hit counting where it is a whole 16-bit entry.
 */
export function indexesWithHash(map: KeyMap, wanted: readonly number[], first: number, end: number): number[] {
  const {raw, hashAt} = map
  if (!map.hashes) throw new BatchDamage('its key map holds no key hashes')
  const from = hashAt + first * 2
  const to = hashAt + end * 2
  const found: number[] = []
  const pattern = Buffer.alloc(2)
  for (const hash of wanted) {
    pattern.writeUInt16LE(hash & 0xffff)
    for (let at = raw.indexOf(pattern, from); at >= 0 && at + 2 <= to; at = raw.indexOf(pattern, at + 1))
      if ((at - hashAt) % 2 === 0) found.push((at - hashAt) / 2)
  }
  // Two wanted hashes found in turn: back to offset order (and each record once).
  return wanted.length > 1 ? [...new Set(found)].sort((a, b) => a - b) : found
}

const groupStart = (map: KeyMap, column: number, group: number) => map.raw.readUInt32LE(map.groupAt + (column * (map.groups + 1) + group) * 4)

/** What reading a batch's records through its map needs: the chunk runs to fetch, as [start, end) byte ranges. */
export function chunkRuns(map: KeyMap, indexes: readonly number[]): Array<[number, number]> {
  const {count, columns, chunkShift, groupShift, blobLength} = map
  const lengthsStart = BATCH_HEADER_BYTES + count * 8
  const wanted = new Set<number>()
  const cover = (start: number, end: number) => {
    for (let c = start >> chunkShift; c <= (Math.max(start, end - 1) >> chunkShift); c++) wanted.add(c)
  }
  for (const g of new Set(indexes.map((i) => i >> groupShift))) {
    const first = g << groupShift
    const last = Math.min(count, first + (1 << groupShift))
    cover(BATCH_HEADER_BYTES + first * 8, BATCH_HEADER_BYTES + last * 8)
    for (let column = 0; column < columns; column++) {
      const lengthsAt = lengthsStart + column * count * 4
      cover(lengthsAt + first * 4, lengthsAt + last * 4)
      const start = groupStart(map, column, g)
      const end = groupStart(map, column, g + 1)
      if (end > start) cover(start, end)
    }
  }
  const chunks = [...wanted].sort((a, b) => a - b)
  const runs: Array<[number, number]> = []
  for (const c of chunks) {
    const start = c << chunkShift
    const end = Math.min(blobLength, (c + 1) << chunkShift)
    const lastRun = runs.at(-1)
    if (lastRun && lastRun[1] === start) lastRun[1] = end
    else runs.push([start, end])
  }
  return runs
}

/**
 * The records at `indexes` whose key is one of `keys`, from the bytes of `runs` (chunkRuns) as read: each
 * chunk is checked against its checksum and each group's lengths against the group's span (so a
 * damaged group start cannot shift a record onto another's bytes) before a byte is handed out.
 */
export function recordsFromRuns(
  map: KeyMap,
  runs: ReadonlyArray<[number, number]>,
  bytes: readonly Buffer[],
  indexes: readonly number[],
  keys: readonly Uint8Array[],
  where: {topic: string; partition: number; baseOffset: number},
): FeedRecord[] {
  const {chunkShift, count, flags, columns, groupShift} = map
  const chunkSize = 1 << chunkShift
  runs.forEach(([start, end], r) => {
    const run = bytes[r]!
    if (run.length !== end - start) throw new BatchDamage('it is shorter than its key map says')
    for (let at = start; at < end; at += chunkSize) {
      const chunk = run.subarray(at - start, Math.min(end, at + chunkSize) - start)
      if (checksum(chunk) !== map.raw.readUInt32LE(map.crcAt + (at >> chunkShift) * 4)) throw new MapChecksumDamage()
    }
  })
  /** The checked bytes [start, end) of the blob: always inside one run, as chunkRuns covered them. */
  const slice = (start: number, end: number): Buffer => {
    for (let r = 0; r < runs.length; r++) {
      const [from, to] = runs[r]!
      if (start >= from && end <= to) return bytes[r]!.subarray(start - from, end - from)
    }
    throw new BatchDamage('its key map points outside the parts read')
  }
  const lengthsStart = BATCH_HEADER_BYTES + count * 8
  const records: FeedRecord[] = []
  for (const i of indexes) {
    const g = i >> groupShift
    const first = g << groupShift
    const last = Math.min(count, first + (1 << groupShift))
    // Each column: the group's lengths must add up to its span, so no record reaches into another's bytes.
    const fields: Array<Buffer | null> = []
    for (let column = 0; column < columns; column++) {
      const lengthsAt = lengthsStart + column * count * 4
      const lengths = int32s(slice(lengthsAt + first * 4, lengthsAt + last * 4))
      const start = groupStart(map, column, g)
      let at = start
      let field: Buffer | null = null
      for (let j = first; j < last; j++) {
        const length = lengths[j - first]!
        if (length < -1) throw new BatchDamage('a record length points past its end')
        if (j === i) field = length < 0 ? null : slice(at, at + length)
        if (length > 0) at += length
      }
      if (at !== groupStart(map, column, g + 1)) throw new BatchDamage('its record lengths do not add up to its key map')
      fields.push(field)
    }
    const key = flags & 1 ? fields[1]! : null
    if (!key || !keys.some((wanted) => key.equals(wanted))) continue
    const headerBytes = flags & 2 ? fields[columns - 1] : null
    const headers: Header[] = headerBytes ? decodeHeaders(headerBytes, 0, headerBytes.length) : []
    records.push({
      topic: where.topic,
      partition: where.partition,
      offset: where.baseOffset + i,
      timestamp: slice(BATCH_HEADER_BYTES + i * 8, BATCH_HEADER_BYTES + i * 8 + 8).readDoubleLE(0),
      key,
      value: fields[0] ?? null,
      headers,
    })
  }
  return records
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Little-endian 32-bit integers as an array: a view where the bytes are aligned (as a group's lengths
 * are in the parts SQLite hands over), a copy where not. A read by key runs this code a few hundred
 * times in a fresh process, too few for readInt32LE's calls to be optimised.
 */
function int32s(bytes: Buffer): Int32Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2)
  const values = new Int32Array(bytes.length >> 2)
  for (let i = 0; i < values.length; i++) values[i] = bytes.readInt32LE(i * 4)
  return values
}

/** A chunk read by key that does not match its checksum: the batch was damaged after it was written. */
export class MapChecksumDamage extends BatchDamage {
  constructor() {
    super('the batch does not match its checksum')
  }
}
