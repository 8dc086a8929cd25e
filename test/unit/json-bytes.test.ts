import {describe, expect, it} from 'vitest'
import {JsonBytes} from '../../src/schemas/json-bytes.js'

/** A fixed sequence of pseudo-random numbers in [0, 1), so that a failure repeats. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return state / 2 ** 32
  }
}

const written = (write: (into: JsonBytes) => void) => {
  const into = new JsonBytes(2)
  write(into)
  return into.text()
}

describe('JsonBytes', () => {
  it('writes numbers exactly as String() prints them, through the digit-by-digit path or not', () => {
    const next = random(7)
    const bits = new Float64Array(1)
    const words = new Uint32Array(bits.buffer)
    const numbers = [0, -0, 0.1, 0.2, 0.3, 0.001, -0.001, 0.0015, 1.005, 4.35, 0.07, 214748364.7, 214748.3647, 2147483.648, 1e21, 1e-7, 9007199254740991, -9007199254740992, 2 ** 60, 5e-324]
    for (let i = 0; i < 200_000; i++) {
      const sign = next() < 0.5 ? -1 : 1
      numbers.push(sign * Math.floor(next() * 2 ** 32) / 10 ** Math.floor(next() * 5))
      numbers.push(sign * Math.floor(next() * 1e6) / 8)
      numbers.push(sign * (0.1 * Math.floor(next() * 1e4) + 0.01 * Math.floor(next() * 10)))
      words[0] = next() * 2 ** 32
      words[1] = next() * 2 ** 32
      if (Number.isFinite(bits[0])) numbers.push(bits[0]!)
    }
    const into = new JsonBytes(2)
    for (const value of numbers) {
      into.pos = 0
      into.writeNumber(value)
      if (into.text() !== String(value)) expect(into.text(), `${value}`).toBe(String(value))
    }
  })

  it('writes integers, ASCII and strings, growing as it goes', () => {
    expect(written((into) => [0, -1, 7, 10, -9007199254740991, 9007199254740991].forEach((n) => (into.writeInteger(n), into.writeByte(0x20))))).toBe(
      '0 -1 7 10 -9007199254740991 9007199254740991 ',
    )
    const long = 'é 日本 😀'.repeat(10_000)
    expect(written((into) => (into.writeAscii('ab'), into.writeString(long), into.writeBytes(Buffer.from('z'))))).toBe(`ab${long}z`)
  })
})
