import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/core/errors.js'
import {collidingName, validateTopicName} from '../../src/core/topic-name.js'
import {formatBytes, parseDuration, parseSize, tryParseDuration} from '../../src/core/units.js'

describe('validateTopicName (Kafka rules)', () => {
  it.each(['orders', 'a', 'clicks.v2', 'my_topic-1', 'A.B_C-9', 'x'.repeat(249)])('accepts %j', (name) => {
    expect(validateTopicName(name)).toBe(name)
  })
  it.each([
    ['', /empty/],
    ['.', /cannot be "."/],
    ['..', /cannot be ".."/],
    ['x'.repeat(250), /250 characters long; the limit is 249/],
    ['has space', /contains characters other than/],
    ['slash/name', /contains characters other than/],
    ['ünïcode', /contains characters other than/],
    ['colon:name', /contains characters other than/],
    // pipe's and diff's ADDRESS/TOPIC given where a plain name goes: said so, with -b as the way.
    ['kafka://localhost:9092/orders', /is a topic with an address; here the topic is a plain name/],
    ['file:./archive.db/orders', /is a topic with an address/],
  ])('refuses %j', (name, message) => {
    expect(() => validateTopicName(name)).toThrow(UsageError)
    expect(() => validateTopicName(name)).toThrow(message)
  })
  it("finds names that differ only in '.' and '_'", () => {
    expect(collidingName('a.b', ['a_b', 'c'])).toBe('a_b')
    expect(collidingName('a.b', ['a.b', 'ab'])).toBeUndefined()
  })
})

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, '--retention')).toBe(ms)
  })
  it.each(['', '10', 'm', '5 m', '10x', '1h-5m', '-5s'])('%j is not a duration', (text) => {
    expect(tryParseDuration(text)).toBeUndefined()
    expect(() => parseDuration(text, '--retention')).toThrow(`--retention '${text}' is not a duration`)
  })
})

describe('sizes', () => {
  it('reads decimal and binary units', () => {
    expect(parseSize('100', '--size')).toBe(100)
    expect(parseSize('1MiB', '--size')).toBe(1024 * 1024)
    expect(parseSize('1KiB', '--size')).toBe(1024)
    expect(parseSize('1GiB', '--size')).toBe(1024 ** 3)
    expect(parseSize('2k', '--size')).toBe(2000)
    expect(parseSize('1MB', '--size')).toBe(1_000_000)
  })
  it('refuses what is not a size', () => {
    expect(() => parseSize('lots', '--max-record-size')).toThrow(UsageError)
    expect(() => parseSize('-1', '--max-record-size')).toThrow(UsageError)
  })
  it('formats sizes for people', () => {
    expect(formatBytes(0)).toMatch(/^0\s?B$/)
    expect(formatBytes(1024 * 1024)).toMatch(/1(\.0)?\s?MiB/)
  })
})
