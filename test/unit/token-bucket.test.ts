import {describe, expect, it} from 'vitest'
import {parseRate} from '../../src/core/units.js'
import {defaultBurst, TokenBucket} from '../../src/ops/token-bucket.js'

/** A clock that moves only when told to. */
function manualClock() {
  let time = 1000
  return {now: () => time, advance: (ms: number) => (time += ms)}
}

describe('TokenBucket (produce --rate/--burst)', () => {
  it('lets exactly the burst through at once, then one token per 1/rate', () => {
    const clock = manualClock()
    const bucket = new TokenBucket(100, 5, clock)
    expect(bucket.take(1000)).toBe(5)
    expect(bucket.take(1000)).toBe(0)
    clock.advance(9)
    expect(bucket.take(1000)).toBe(0)
    clock.advance(1)
    expect(bucket.take(1000)).toBe(1)
    clock.advance(35)
    expect(bucket.take(1000)).toBe(3)
  })

  it('starts idle: time before the first take does not add to the first burst', () => {
    const clock = manualClock()
    const bucket = new TokenBucket(1000, 20, clock)
    clock.advance(500)
    expect(bucket.take(1_000_000)).toBe(20)
    expect(bucket.take(1_000_000)).toBe(0)
  })

  it('after idle input it saves up one burst at most, however long it waits', () => {
    const clock = manualClock()
    const bucket = new TokenBucket(1000, 20, clock)
    bucket.take(20)
    bucket.markIdle()
    clock.advance(60_000)
    expect(bucket.readyAt(20)).toBe(clock.now())
    clock.advance(60_000)
    expect(bucket.take(1_000_000)).toBe(20)
    expect(bucket.take(1_000_000)).toBe(0)
  })

  it('while records wait, catches up on a stall in takes of at most a burst, so the average holds', () => {
    const clock = manualClock()
    const bucket = new TokenBucket(1000, 20, clock)
    bucket.take(20)
    clock.advance(100)
    const takes = [bucket.take(1_000_000), bucket.take(1_000_000), bucket.take(1_000_000), bucket.take(1_000_000), bucket.take(1_000_000), bucket.take(1_000_000)]
    expect(takes).toEqual([20, 20, 20, 20, 20, 0])
  })

  it('says when a number of tokens will be there, capped at the burst', () => {
    const clock = manualClock()
    const bucket = new TokenBucket(50, 10, clock)
    expect(bucket.readyAt(3)).toBe(1000)
    bucket.take(10)
    expect(bucket.readyAt(1)).toBe(1020)
    expect(bucket.readyAt(4)).toBe(1080)
    expect(bucket.readyAt(1000)).toBe(1200)
  })

  it('over a long run admits the rate, to the record', () => {
    const clock = manualClock()
    const bucket = new TokenBucket(10_000, 500, clock)
    let admitted = bucket.take(Number.MAX_SAFE_INTEGER)
    for (let step = 0; step < 1000; step++) {
      clock.advance(3)
      admitted += bucket.take(Number.MAX_SAFE_INTEGER)
    }
    expect(admitted).toBe(500 + 30_000)
  })

  it('defaults the burst to 50 ms worth of the rate, at least 1', () => {
    expect(defaultBurst(10_000)).toBe(500)
    expect(defaultBurst(1)).toBe(1)
  })
})

describe('parseRate', () => {
  it('reads per second, per minute and per hour', () => {
    expect(parseRate('500/s', '--rate')).toBe(500)
    expect(parseRate('500', '--rate')).toBe(500)
    expect(parseRate('30/m', '--rate')).toBe(0.5)
    expect(parseRate('3600/h', '--rate')).toBe(1)
    expect(parseRate('2.5/S', '--rate')).toBe(2.5)
  })

  it('refuses what is not a rate above 0, as a usage error', () => {
    for (const bad of ['', 'fast', '0/s', '-5/s', '10/d', '10/s/s'])
      expect(() => parseRate(bad, '--rate')).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringContaining('is not a rate')}))
  })
})
