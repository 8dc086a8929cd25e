/**
 * The Confluent wire format: byte 0 is 0 (the magic byte), bytes 1-4 the schema id (big-endian), then
 * the payload in the schema's format.
 */
export const FRAME_BYTES = 5

/** The schema id a key or value is framed with, or undefined for bytes without the framing. */
export function frameId(bytes: Uint8Array | null): number | undefined {
  return bytes === null ? undefined : frameIdAt(bytes, 0, bytes.length)
}

/** frameId of the bytes [start, end) of buf. */
export function frameIdAt(buf: Uint8Array, start: number, end: number): number | undefined {
  if (end - start < FRAME_BYTES || buf[start] !== 0) return undefined
  return ((buf[start + 1]! << 24) | (buf[start + 2]! << 16) | (buf[start + 3]! << 8) | buf[start + 4]!) >>> 0
}

/** The 5 bytes that frame a key or value written with schema `id`. */
export function frameOf(id: number): Buffer {
  const frame = Buffer.alloc(FRAME_BYTES)
  frame.writeUInt32BE(id, 1)
  return frame
}
