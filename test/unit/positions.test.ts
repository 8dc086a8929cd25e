import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/core/errors.js'
import {parsePosition, parseTime, resolvePosition} from '../../src/core/positions.js'

const NOW = Date.parse('2026-11-25T12:00:00Z')

describe('parsePosition', () => {
  it.each([
    ['earliest', {kind: 'earliest'}],
    ['start', {kind: 'earliest'}],
    ['beginning', {kind: 'earliest'}],
    ['EARLIEST', {kind: 'earliest'}],
    ['latest', {kind: 'latest'}],
    ['end', {kind: 'latest'}],
    ['0', {kind: 'offset', offset: 0}],
    ['42', {kind: 'offset', offset: 42}],
    ['+5', {kind: 'after-start', count: 5}],
    ['-5', {kind: 'before-end', count: 5}],
    [' -10 ', {kind: 'before-end', count: 10}],
  ])('reads %j', (text, expected) => {
    expect(parsePosition(text, '--from', NOW)).toEqual(expected)
  })

  it('reads absolute times: RFC 3339 with Z or an offset, a UTC date, epoch milliseconds', () => {
    expect(parsePosition('@2026-11-25T10:00:00Z', '--from', NOW)).toEqual({kind: 'time', timestamp: Date.parse('2026-11-25T10:00:00Z')})
    expect(parsePosition('@2026-11-25T10:00:00.250+02:00', '--from', NOW)).toEqual({kind: 'time', timestamp: Date.parse('2026-11-25T08:00:00.250Z')})
    expect(parsePosition('@2026-11-25', '--from', NOW)).toEqual({kind: 'time', timestamp: Date.parse('2026-11-25T00:00:00Z')})
    expect(parsePosition('@1764064800000', '--from', NOW)).toEqual({kind: 'time', timestamp: 1764064800000})
  })

  it('reads times relative to now in both directions', () => {
    expect(parsePosition('@-10m', '--from', NOW)).toEqual({kind: 'time', timestamp: NOW - 600_000})
    expect(parsePosition('@-1h30m', '--from', NOW)).toEqual({kind: 'time', timestamp: NOW - 5_400_000})
    expect(parsePosition('@+5s', '--from', NOW)).toEqual({kind: 'time', timestamp: NOW + 5000})
  })

  it.each(['', 'soon', '1.5', '--5', '+', '@', '@yesterday', '@-10', '@2026-13-45', '@2026-11-25T10:00', '@2026-02-30', '@2026-02-29T10:00:00Z', '@2026-11-25 10:00', '@Tue, 01 Jan 2030', '@2026-11-25T24:00:00Z', '99999999999999999999', 'earliest+1'])(
    'refuses %j with a usage error naming the flag and the grammar',
    (text) => {
      let error: unknown
      try {
        parsePosition(text, '--until', NOW)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(UsageError)
      expect((error as UsageError).message).toBe(`--until '${text}' is not a position`)
      expect((error as UsageError).hint).toMatch(/earliest, latest, N .*@-DURATION/)
    },
  )
})

describe('parseTime', () => {
  it('returns undefined for what is not a time', () => {
    expect(parseTime('tomorrow', NOW)).toBeUndefined()
    expect(parseTime('-5', NOW)).toBeUndefined()
  })
})

describe('resolvePosition', () => {
  const range = {start: 10, end: 20}
  const noTime = async () => {
    throw new Error('not asked')
  }
  it.each([
    [{kind: 'earliest'}, 10],
    [{kind: 'latest'}, 20],
    [{kind: 'offset', offset: 15}, 15],
    [{kind: 'offset', offset: 3}, 10],
    [{kind: 'offset', offset: 99}, 20],
    [{kind: 'after-start', count: 4}, 14],
    [{kind: 'after-start', count: 40}, 20],
    [{kind: 'before-end', count: 3}, 17],
    [{kind: 'before-end', count: 300}, 10],
  ] as const)('resolves %j within [start, end]', async (position, offset) => {
    expect(await resolvePosition(position, range, noTime)).toBe(offset)
  })

  it('asks the backend for a time and clamps its answer', async () => {
    expect(await resolvePosition({kind: 'time', timestamp: 5}, range, async (ts) => (ts === 5 ? 13 : -1))).toBe(13)
    expect(await resolvePosition({kind: 'time', timestamp: 5}, range, async () => 2)).toBe(10)
  })
})
