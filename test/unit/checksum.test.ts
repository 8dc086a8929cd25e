import {createRequire} from 'node:module'
import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {NATIVE_FROM_BYTES, crc32c, crc32cJs} from '../../src/core/checksum.js'

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
})
