import {createRequire} from 'node:module'
import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {NATIVE_FROM_BYTES, crc32c, crc32cJs, crc32cOfParts} from '../../src/core/checksum.js'

const native = (createRequire(import.meta.url)('@node-rs/crc32') as {crc32c: (b: Buffer) => number}).crc32c

describe('CRC-32C', () => {
  it('the JavaScript table gives the native value: check value, empty input, every length to 300, odd offsets', () => {
    expect(crc32cJs(Buffer.from('123456789'))).toBe(0xe3069283)
    expect(crc32cJs(Buffer.alloc(0))).toBe(0)
    const data = randomBytes(4096)
    for (let length = 0; length <= 300; length++) {
      for (const offset of [0, 1, 3, 7]) {
        const slice = data.subarray(offset, offset + length)
        expect(crc32cJs(slice), `${length}@${offset}`).toBe(native(slice) >>> 0)
      }
    }
    const big = randomBytes(NATIVE_FROM_BYTES + 13)
    expect(crc32cJs(big)).toBe(native(big) >>> 0)
  })

  it('crc32c agrees with the native module below and above the switch', () => {
    for (const size of [0, 1, 100, NATIVE_FROM_BYTES - 1, NATIVE_FROM_BYTES, 3 * NATIVE_FROM_BYTES]) {
      const data = randomBytes(size)
      expect(crc32c(data), String(size)).toBe(native(data) >>> 0)
    }
    const small = randomBytes(50)
    expect(crc32c(small)).toBe(native(small) >>> 0)
  })

  it('continues a checksum over a second part, in JavaScript and natively alike', () => {
    for (const [first, second] of [[0, 0], [0, 9], [61, 0], [40, 100], [40, NATIVE_FROM_BYTES + 5], [NATIVE_FROM_BYTES, 3]]) {
      const a = randomBytes(first)
      const b = randomBytes(second)
      const whole = native(Buffer.concat([a, b])) >>> 0
      expect(crc32cJs(b, crc32cJs(a)), `js ${first}+${second}`).toBe(whole)
      expect(crc32c(b, crc32c(a)), `${first}+${second}`).toBe(whole)
    }
  })

  it('crc32cOfParts gives the CRC of the parts back to back from their own CRCs, whatever the last part\'s size', () => {
    for (const [partSize, total] of [[8192, 8192], [8192, 8193], [8192, 3 * 8192 - 1], [8192, 20 * 8192], [8192, 100], [7, 50], [1, 9]]) {
      const data = randomBytes(total)
      const crcs: number[] = []
      for (let at = 0; at < total; at += partSize) crcs.push(native(data.subarray(at, Math.min(total, at + partSize))) >>> 0)
      expect(crc32cOfParts(crcs, partSize, total), `${total} in parts of ${partSize}`).toBe(native(data) >>> 0)
    }
    expect(crc32cOfParts([], 8192, 0)).toBe(0)
  })
})
