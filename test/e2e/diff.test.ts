import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
let other: string
beforeEach(() => {
  t = tempHome()
  other = `file:${join(t.home, 'other.db')}`
})
afterEach(() => t.cleanup())

const T0 = 1_764_064_800_000

interface Rec {
  partition?: number
  key?: string | null
  value: string | null
  timestamp?: number
  headers?: Array<{key: string; value: string}>
}

/** Creates TOPIC and produces exact records (partitions, keys, timestamps, headers) into it, on the default store or -b broker. */
async function put(topic: string, records: Rec[], partitions = 1, broker?: string): Promise<void> {
  const where = broker ? ['-b', broker] : []
  const created = await run(['topic', 'create', topic, '--partitions', String(partitions), ...where], {env: t.env})
  expect(created.code, created.stderr).toBe(0)
  const lines = records.map((r, i) => JSON.stringify({partition: r.partition ?? 0, key: r.key ?? null, value: r.value, timestamp: r.timestamp ?? T0 + i, headers: r.headers ?? []}))
  if (records.length === 0) return
  const produced = await run(['produce', topic, '--input', 'json', ...where], {env: t.env, input: lines.join('\n') + '\n'})
  expect(produced.code, produced.stderr).toBe(0)
}

const diff = (...args: string[]) => run(['diff', ...args], {env: t.env})
const lines = (r: {stdout: Buffer}) => r.stdout.toString().trimEnd().split('\n')

const sample: Rec[] = [
  {key: 'k1', value: 'one', headers: [{key: 'h', value: '1'}, {key: 'h', value: '2'}]},
  {partition: 1, key: 'k2', value: 'two'},
  {key: 'k3', value: 'three\nlines'},
  {partition: 1, key: null, value: null},
]

describe('spool diff', () => {
  it('a topic and its copy in another store are equal in every mode (exit 0)', async () => {
    await put('src', sample, 2)
    const piped = await run(['pipe', 'src', `${other}/src`], {env: t.env})
    expect(piped.code, piped.stderr).toBe(0)
    for (const by of ['offset', 'key', 'value']) {
      const result = await diff('src', `${other}/src`, '--by', by)
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(lines(result)).toEqual([expect.stringMatching(new RegExp(`^equal \\(by ${by}\\): \\d+ equal, 0 only in A, 0 only in B, 0 changed`))])
    }
    expect(lines(await diff('src', `${other}/src`))).toEqual(['equal (by offset): 4 equal, 0 only in A, 0 only in B, 0 changed'])
  })

  it('by offset: a changed value, a changed header and a record only in B, shown like diff(1) (exit 1)', async () => {
    await put('a', sample, 2)
    const changed = structuredClone(sample)
    changed[0]!.headers![1]!.value = '3'
    changed[2]!.value = 'three'
    changed.push({key: 'k4', value: 'four', timestamp: T0 + 9})
    await put('b', changed, 2, other)
    const result = await diff('a', `${other}/b`)
    expect(result.code).toBe(1)
    expect(lines(result)).toEqual([
      '~ p0@0 (headers)',
      '< p0@0 key="k1" value="one" headers=["h"="1","h"="2"] timestamp=1764064800000',
      '> p0@0 key="k1" value="one" headers=["h"="1","h"="3"] timestamp=1764064800000',
      '~ p0@1 (value)',
      '< p0@1 key="k3" value="three\\nlines" headers=[] timestamp=1764064800002',
      '> p0@1 key="k3" value="three" headers=[] timestamp=1764064800002',
      '> p0@2 key="k4" value="four" headers=[] timestamp=1764064800009',
      'different (by offset): 2 equal, 0 only in A, 1 only in B, 2 changed',
    ])
  })

  it('--fields says what must match: timestamps aside, a re-produced topic is equal', async () => {
    await put('a', sample, 2)
    await put('b', sample.map((r, i) => ({...r, timestamp: T0 + 1000 + i})), 2)
    const strict = await diff('a', 'b')
    expect(strict.code).toBe(1)
    expect(lines(strict).at(-1)).toBe('different (by offset): 0 equal, 0 only in A, 0 only in B, 4 changed')
    expect(lines(strict)[0]).toBe('~ p0@0 (timestamp)')
    const relaxed = await diff('a', 'b', '--fields', 'key,value,headers')
    expect(relaxed.code).toBe(0)
    expect(lines(relaxed)).toEqual(['equal (by offset): 4 equal, 0 only in A, 0 only in B, 0 changed'])
    const bad = await diff('a', 'b', '--fields', 'key,offset')
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--fields 'offset' is not a record field/)])
  })

  it('--by key compares the latest value per key; a tombstone removes a key; order and offsets do not matter', async () => {
    // A: k1 rewritten, k3 deleted by a tombstone, one record without a key (left out).
    await put('a', [
      {key: 'k1', value: 'old', timestamp: T0},
      {key: 'k2', value: 'two', timestamp: T0},
      {key: 'k3', value: 'gone', timestamp: T0},
      {key: 'k1', value: 'new', timestamp: T0},
      {key: 'k3', value: null, timestamp: T0},
      {key: null, value: 'no key', timestamp: T0},
    ])
    await put('b', [
      {key: 'k2', value: 'two', timestamp: T0},
      {key: 'k1', value: 'new', timestamp: T0},
    ])
    const same = await diff('a', 'b', '--by', 'key')
    expect(same.code).toBe(0)
    expect(lines(same)).toEqual(['equal (by key): 2 equal, 0 only in A, 0 only in B, 0 changed; without a key (left out): A 1, B 0'])
    // Compared by offset the same two topics differ.
    expect((await diff('a', 'b')).code).toBe(1)

    await put('c', [
      {key: 'k2', value: 'TWO', timestamp: T0},
      {key: 'k1', value: 'new', timestamp: T0},
      {key: 'k4', value: 'four', timestamp: T0},
      {key: 'k3', value: 'back', timestamp: T0},
    ])
    const changed = await diff('a', 'c', '--by', 'key', '--fields', 'value')
    expect(changed.code).toBe(1)
    expect(lines(changed)).toEqual([
      '~ key="k2" (value)',
      '< p0@1 key="k2" value="two"',
      '> p0@0 key="k2" value="TWO"',
      '> p0@2 key="k4" value="four"',
      '> p0@3 key="k3" value="back"',
      'different (by key): 1 equal, 0 only in A, 2 only in B, 1 changed; without a key (left out): A 1, B 0',
    ])
    // What changed is named as in offset mode, in --json too, the partition among the fields when asked.
    const json = JSON.parse((await diff('a', 'c', '--by', 'key', '--fields', 'value,timestamp,partition', '--json')).stdout.toString())
    expect(json.differences.filter((d: {kind: string}) => d.kind === 'changed').map((d: {fields: string[]}) => d.fields)).toEqual([['value']])
  })

  it('--fields partition with --by offset is a usage error: it would compare nothing', async () => {
    await put('a', [{key: 'k', value: 'v', timestamp: T0}])
    const refused = await diff('a', 'a', '--fields', 'value,partition')
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe('spool: --fields partition compares nothing with --by offset: records are matched within one partition (use --by key or --by value to compare partitions)\n')
  })

  it('--by key: a key in several partitions takes the latest of each partition, the later timestamp winning (ties: the higher partition)', async () => {
    // Partition 1's latest record of k (offset order) is older than partition 0's.
    await put('spread', [
      {partition: 0, key: 'k', value: 'p0', timestamp: T0 + 5},
      {partition: 1, key: 'k', value: 'p1-first', timestamp: T0 + 9},
      {partition: 1, key: 'k', value: 'p1-last', timestamp: T0 + 1},
      {partition: 0, key: 't', value: 'p0', timestamp: T0},
      {partition: 1, key: 't', value: 'p1', timestamp: T0},
    ], 2)
    await put('table', [
      {key: 'k', value: 'p0'},
      {key: 't', value: 'p1'},
    ])
    const result = await diff('spread', 'table', '--by', 'key', '--fields', 'value')
    expect(lines(result)).toEqual(['equal (by key): 2 equal, 0 only in A, 0 only in B, 0 changed; partitions: A 2, B 1'])
    expect(result.code).toBe(0)
  })

  it('--by key: keys longer than 32 bytes (kept as digests) match and differ like short ones', async () => {
    const long = (i: number) => `${'long-key-'.repeat(5)}${i}`
    await put('a', [0, 1, 2].map((i) => ({key: long(i), value: `v${i}`, timestamp: T0})))
    await put('b', [2, 1, 0].map((i) => ({key: long(i), value: `v${i}`, timestamp: T0})))
    expect(lines(await diff('a', 'b', '--by', 'key'))).toEqual(['equal (by key): 3 equal, 0 only in A, 0 only in B, 0 changed'])
    await put('c', [0, 1].map((i) => ({key: long(i), value: i === 1 ? 'changed' : `v${i}`, timestamp: T0})))
    expect(lines(await diff('a', 'c', '--by', 'key', '--fields', 'value'))).toEqual([
      `~ key="${long(1)}" (value)`,
      `< p0@1 key="${long(1)}" value="v1"`,
      `> p0@1 key="${long(1)}" value="changed"`,
      `< p0@2 key="${long(2)}" value="v2"`,
      'different (by key): 1 equal, 1 only in A, 0 only in B, 1 changed',
    ])
  })

  it('--by value compares multisets: order and partitions ignored, copies counted', async () => {
    await put('a', [{value: 'x'}, {value: 'y'}, {value: 'z'}, {value: 'x'}].map((r) => ({...r, timestamp: T0})), 1)
    await put('b', [{value: 'z', partition: 1}, {value: 'x'}, {value: 'x', partition: 1}, {value: 'y'}].map((r) => ({...r, timestamp: T0})), 2)
    const same = await diff('a', 'b', '--by', 'value')
    expect(same.code).toBe(0)
    expect(lines(same)).toEqual(['equal (by value): 4 equal, 0 only in A, 0 only in B, 0 changed; partitions: A 1, B 2'])
    // With the partition compared, the records in B's partition 1 are not A's.
    const placed = await diff('a', 'b', '--by', 'value', '--fields', 'value,partition')
    expect(placed.code).toBe(1)
    expect(lines(placed).at(-1)).toBe('different (by value): 2 equal, 2 only in A, 2 only in B, 0 changed; partitions: A 1, B 2')

    await put('c', [{value: 'x'}, {value: 'y'}, {value: 'y'}, {value: 'y'}, {value: 'z'}].map((r) => ({...r, timestamp: T0})))
    const copies = await diff('a', 'c', '--by', 'value', '--fields', 'value')
    expect(copies.code).toBe(1)
    expect(lines(copies)).toEqual([
      '< p0@0 key=null value="x"',
      '> p0@1 key=null value="y" (2 more copies than in A)',
      'different (by value): 3 equal, 1 only in A, 2 only in B, 0 changed',
    ])
  })

  it('-n limits the differences printed (all are counted); -n 0 prints the summary alone', async () => {
    await put('a', Array.from({length: 30}, (_, i) => ({key: `k${i}`, value: `v${i}`})))
    await put('b', Array.from({length: 30}, (_, i) => ({key: `k${i}`, value: `w${i}`})))
    for (const by of ['offset', 'key', 'value']) {
      const five = await diff('a', 'b', '--by', by, '-n', '5')
      expect(five.code).toBe(1)
      const printed = lines(five)
      expect(printed.at(-1)).toMatch(/; first 5 shown$/)
      // offset and key pair the records (~, <, >); value has no pairs, only records in surplus.
      expect(printed.filter((l) => l.startsWith('~'))).toHaveLength(by === 'value' ? 0 : 5)
      expect(printed.filter((l) => /^[<>~]/.test(l)).length).toBe(by === 'value' ? 5 : 15)
      expect(printed).toHaveLength(printed.filter((l) => /^[<>~]/.test(l)).length + 1)
    }
    const none = await diff('a', 'b', '-n', '0')
    expect(lines(none)).toEqual(['different (by offset): 0 equal, 0 only in A, 0 only in B, 30 changed; first 0 shown'])
  })

  it('--json prints one document with the summary and the records as envelopes (bytes that are not UTF-8 in base64)', async () => {
    await put('a', [{key: 'k', value: 'same'}, {key: 'k', value: 'left'}])
    await run(['topic', 'create', 'b'], {env: t.env})
    const envelope = (value: string, i: number, encoding?: string) =>
      JSON.stringify({key: 'k', value, ...(encoding ? {value_encoding: encoding} : {}), timestamp: T0 + i, headers: []})
    const produced = await run(['produce', 'b', '--input', 'json'], {env: t.env, input: `${envelope('same', 0)}\n${envelope('/w==', 1, 'base64')}\n${envelope('extra', 2)}\n`})
    expect(produced.code, produced.stderr).toBe(0)
    const result = await diff('a', 'b', '--json')
    expect(result.code).toBe(1)
    const document = JSON.parse(result.stdout.toString())
    expect(document).toEqual({
      same: false,
      by: 'offset',
      fields: ['key', 'value', 'headers', 'timestamp'],
      a: {topic: 'a', partitions: 1, records: 2},
      b: {topic: 'b', partitions: 1, records: 3},
      summary: {equal: 1, only_a: 0, only_b: 1, changed: 1},
      differences: [
        {
          kind: 'changed',
          fields: ['value'],
          a: {topic: 'a', partition: 0, offset: 1, timestamp: T0 + 1, key: 'k', value: 'left', headers: []},
          b: {topic: 'b', partition: 0, offset: 1, timestamp: T0 + 1, key: 'k', value: '/w==', value_encoding: 'base64', headers: []},
        },
        {kind: 'only-b', a: null, b: {topic: 'b', partition: 0, offset: 2, timestamp: T0 + 2, key: 'k', value: 'extra', headers: []}},
      ],
    })
    expect(lines(await diff('a', 'b'))[2]).toBe('> p0@1 key="k" value=base64:/w== headers=[] timestamp=1764064800001')
    const equal = await diff('a', 'a', '--json')
    expect(equal.code).toBe(0)
    expect(JSON.parse(equal.stdout.toString())).toMatchObject({same: true, summary: {equal: 2, only_a: 0, only_b: 0, changed: 0}, differences: []})
  })

  it('a topic that does not exist is exit 2 with one line, never "equal", on either side and in any store', async () => {
    await put('a', [])
    for (const [x, y] of [
      ['a', 'missing'],
      ['missing', 'a'],
      ['a', `${other}/a`],
      ['missing', 'missing'],
    ]) {
      for (const by of ['offset', 'key', 'value']) {
        const result = await diff(x!, y!, '--by', by)
        expect(result.code).toBe(2)
        expect(result.stdout.toString()).toBe('')
        expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^spool: topic '(missing|a)' does not exist in .*\(see the topics with: spool topic list\)$/)])
      }
    }
    const usage = await diff('a')
    expect(usage.code).toBe(2)
    expect(usage.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('different partition counts are a difference by offset, even where the extra partition is empty', async () => {
    const records = [{value: 'x'}, {partition: 1, value: 'y'}]
    await put('two', records, 2)
    await put('three', records, 3)
    const result = await diff('two', 'three')
    expect(result.code).toBe(1)
    expect(lines(result)).toEqual(['different (by offset): 2 equal, 0 only in A, 0 only in B, 0 changed; partitions: A 2, B 3'])
    await run(['produce', 'three', '-p', '2'], {env: t.env, input: 'z\n'})
    const more = await diff('two', 'three', '--fields', 'value')
    expect(lines(more)).toEqual(['> p2@0 key=null value="z"', 'different (by offset): 2 equal, 0 only in A, 1 only in B, 0 changed; partitions: A 2, B 3'])
    // -p picks partitions of both sides; a partition neither has is a usage error.
    expect((await diff('two', 'three', '-p', '0-1')).code).toBe(0)
    expect((await diff('two', 'three', '-p', '2')).code).toBe(1)
    const none = await diff('two', 'three', '-p', '5')
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/neither topic has partition 5/)
  })

  it('--from and --until bound both sides', async () => {
    await put('a', Array.from({length: 10}, (_, i) => ({value: `v${i}`})))
    await put('b', Array.from({length: 10}, (_, i) => ({value: i < 5 ? `v${i}` : `w${i}`})))
    expect((await diff('a', 'b')).code).toBe(1)
    expect(lines(await diff('a', 'b', '--until', '5'))).toEqual(['equal (by offset): 5 equal, 0 only in A, 0 only in B, 0 changed'])
    expect(lines(await diff('a', 'b', '--from', '8', '--fields', 'value'))).toEqual([
      '~ p0@8 (value)',
      '< p0@8 key=null value="v8"',
      '> p0@8 key=null value="w8"',
      '~ p0@9 (value)',
      '< p0@9 key=null value="v9"',
      '> p0@9 key=null value="w9"',
      'different (by offset): 0 equal, 0 only in A, 0 only in B, 2 changed',
    ])
  })
})
