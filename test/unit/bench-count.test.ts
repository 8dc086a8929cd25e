import {describe, expect, it} from 'vitest'
import {SpoolError} from '../../src/core/errors.js'
import {parseCount} from '../../src/ops/bench.js'

describe('parseCount', () => {
  it('reads plain and suffixed decimal counts', () => {
    expect(parseCount('1000', '-n')).toBe(1000)
    expect(parseCount('250k', '-n')).toBe(250_000)
    expect(parseCount('1M', '-n')).toBe(1_000_000)
    expect(parseCount('1.5m', '-n')).toBe(1_500_000)
    expect(parseCount('2G', '-n')).toBe(2_000_000_000)
  })
  it.each(['0', '-5', 'abc', '1x', '', '1.5'])('refuses %j', (text) => {
    expect(() => parseCount(text, '-n')).toThrow(SpoolError)
  })
})
