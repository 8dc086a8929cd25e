import {describe, expect, it} from 'vitest'
import {LATEST_TIME, isoTime} from '../../src/core/timestamps.js'
import {bucketLabel} from '../../src/ops/count.js'

// Times past year 9999 are written +YYYYYY by Date; past LATEST_TIME a Date cannot show them at all.
describe('printing record times', () => {
  it('isoTime writes RFC 3339 up to the latest time a Date shows, epoch milliseconds past it', () => {
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z')
    expect(isoTime(LATEST_TIME)).toBe('+275760-09-13T00:00:00.000Z')
    expect(isoTime(LATEST_TIME + 1)).toBe('8640000000000001')
  })

  it('count --by labels cut times at the T, whatever the width of the year', () => {
    const bucket = (start: number) => ({kind: 'time' as const, start, count: 1})
    expect(bucketLabel(bucket(Date.parse('2026-11-25T10:07:00Z')), 'minute', false)).toBe('2026-11-25T10:07Z')
    expect(bucketLabel(bucket(Date.parse('2026-11-25T00:00:00Z')), 'day', false)).toBe('2026-11-25')
    expect(bucketLabel(bucket(LATEST_TIME), 'day', false)).toBe('+275760-09-13')
    expect(bucketLabel(bucket(LATEST_TIME - 60_000), 'minute', false)).toBe('+275760-09-12T23:59Z')
    expect(bucketLabel(bucket(LATEST_TIME + 60_000), 'hour', false)).toBe('8640000000060000')
  })
})
