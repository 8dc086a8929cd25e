import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, sh, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

/** 2026-01-01T00:00:00Z: minute, hour and day buckets start on it. */
const DAY = Date.UTC(2026, 0, 1)
const MINUTE = 60_000

/**
 * One produce, one batch per partition: the tests count which batches metadata answers and which are
 * read. The input's last line has no newline, so that record waits for the end of the input; a linger of
 * a few ms that ran out first (a busy machine) cut it into a batch of its own (counted from metadata).
 */
async function produceJson(topic: string, records: Array<Record<string, unknown>>, extra: string[] = []) {
  const result = await run(['produce', topic, '--input', 'json', '--linger', '1m', ...extra], {env: t.env, input: records.map((r) => JSON.stringify(r)).join('\n')})
  expect(result.code, result.stderr).toBe(0)
}

async function count(args: string[]): Promise<string> {
  const result = await run(['count', ...args], {env: t.env})
  expect(result.code, result.stderr).toBe(0)
  return result.stdout.toString()
}

async function countJson(args: string[]): Promise<Record<string, any>> {
  return JSON.parse(await count([...args, '--json']))
}

/**
 * 3 partitions. Partition 0: one batch per produce, each inside one minute (metadata answers). Partition
 * 1: one batch spanning minutes 0 to 4 (it must be read for minute buckets). Partition 2: nothing.
 */
async function feed() {
  await run(['topic', 'create', 'events', '-p', '3'], {env: t.env})
  await produceJson('events', Array.from({length: 30}, (_, i) => ({value: `a${i}`, key: `k${i % 3}`, timestamp: DAY + i * 1000, partition: 0})))
  await produceJson('events', Array.from({length: 20}, (_, i) => ({value: `b${i}`, key: `k${i % 2}`, timestamp: DAY + 2 * MINUTE + i * 1000, partition: 0})))
  await produceJson('events', Array.from({length: 50}, (_, i) => ({value: `c${i}`, timestamp: DAY + i * 6000, partition: 1})))
}

describe('spool count', () => {
  it('counts a topic exactly from batch metadata, and the reading path agrees', async () => {
    await feed()
    expect(await count(['events'])).toBe('100\n')
    const meta = await countJson(['events', '--by', 'partition'])
    expect(meta).toEqual({
      topics: ['events'],
      count: 100,
      by: 'partition',
      buckets: [
        {topic: 'events', partition: 0, count: 50},
        {topic: 'events', partition: 1, count: 50},
        {topic: 'events', partition: 2, count: 0},
      ],
      read_records: 0,
    })
    // A filter that keeps everything goes through the reading path: the same counts, every record read.
    const read = await countJson(['events', '--by', 'partition', '--filter', 'true'])
    expect(read.buckets).toEqual(meta.buckets)
    expect(read.read_records).toBe(100)
    const lines = await sh('$bin consume events | wc -l', {env: t.env})
    expect(Number(lines.stdout.toString().trim())).toBe(100)
  })

  it('--by minute/hour/day: UTC buckets with the empty ones, reading only batches that span two', async () => {
    await feed()
    const minutes = await countJson(['events', '--by', 'minute'])
    // Partition 0: 30 in minute 0, 20 in minute 2. Partition 1: 10 per minute in minutes 0-4.
    expect(minutes.buckets).toEqual([
      {start: DAY, bucket: '2026-01-01T00:00Z', count: 40},
      {start: DAY + MINUTE, bucket: '2026-01-01T00:01Z', count: 10},
      {start: DAY + 2 * MINUTE, bucket: '2026-01-01T00:02Z', count: 30},
      {start: DAY + 3 * MINUTE, bucket: '2026-01-01T00:03Z', count: 10},
      {start: DAY + 4 * MINUTE, bucket: '2026-01-01T00:04Z', count: 10},
    ])
    expect(minutes.read_records).toBe(50)
    const read = await countJson(['events', '--by', 'minute', '--filter', 'true'])
    expect(read.buckets).toEqual(minutes.buckets)
    expect(read.read_records).toBe(100)
    expect(await count(['events', '--by', 'hour'])).toBe('2026-01-01T00:00Z\t100\n')
    expect(await count(['events', '--by', 'day'])).toBe('2026-01-01\t100\n')
    expect((await countJson(['events', '--by', 'hour'])).read_records).toBe(0)
  })

  it('--by minute over a span of more than 100,000 minutes lists the buckets with records and says so', async () => {
    // 7 days by minute (10,081 buckets) is listed whole; one record in 1970 makes the span 29 million.
    const input = ['2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z', '2026-01-08T00:00:00Z'].map((ts) => JSON.stringify({timestamp: ts, value: 'v'})).join('\n')
    await run(['produce', 'sparse', '--input', 'json'], {env: t.env, input})
    const week = await run(['count', 'sparse', '--by', 'minute'], {env: t.env})
    expect(week.stdout.toString().split('\n').filter(Boolean)).toHaveLength(7 * 24 * 60 + 1)
    expect(week.stderr).toBe('')
    await run(['produce', 'sparse', '--input', 'json'], {env: t.env, input: '{"timestamp":0,"value":"v"}\n'})
    const wide = await run(['count', 'sparse', '--by', 'minute'], {env: t.env})
    expect(wide.code).toBe(0)
    expect(wide.stdout.toString()).toBe('1970-01-01T00:00Z\t1\n2026-01-01T00:00Z\t1\n2026-01-01T00:05Z\t1\n2026-01-08T00:00Z\t1\n')
    expect(wide.stderr).toMatch(/^spool: the records span 29,463,841 minutes: only the 4 with records are listed \(empty ones are listed as 0 over at most 100,000; .*\)\n$/)
    const json = await countJson(['sparse', '--by', 'minute'])
    expect(json.buckets).toHaveLength(4)
    expect(json.empty_buckets_listed).toBe(false)
  })

  it('counts what consume prints for the same positions and partitions', async () => {
    await feed()
    const cases = [
      ['--from', '5'],
      ['--from', '-7'],
      ['--from', '+3', '--until', '25'],
      ['--from', `@${DAY + 2 * MINUTE}`],
      ['--from', `@${DAY + 20_000}`, '--until', `@${DAY + 3 * MINUTE}`],
      ['-p', '1', '--from', `@${DAY + MINUTE}`],
    ]
    for (const positions of cases) {
      const consumed = await sh(`$bin consume events ${positions.join(' ')} | wc -l`, {env: t.env})
      expect(await count(['events', ...positions]), positions.join(' ')).toBe(`${consumed.stdout.toString().trim()}\n`)
    }
    // A range inside a batch is still counted from metadata; minute buckets of it agree with reading.
    const partial = await countJson(['events', '--from', `@${DAY + 20_000}`, '--until', `@${DAY + 3 * MINUTE}`, '--by', 'minute'])
    const partialRead = await countJson(['events', '--from', `@${DAY + 20_000}`, '--until', `@${DAY + 3 * MINUTE}`, '--by', 'minute', '--filter', 'true'])
    expect(partial.buckets).toEqual(partialRead.buckets)
    expect(partial.count).toBe(partialRead.count)
  })

  it('--by key: most first, null keys included; --filter counts what the expression keeps; several topics', async () => {
    await feed()
    expect(await count(['events', '--by', 'key'])).toBe('(null)\t50\nk0\t20\nk1\t20\nk2\t10\n')
    expect(await count(['events', '--filter', 'r.value.startsWith("b")'])).toBe('20\n')
    await produceJson('other', [{value: 'x', key: 'k2'}])
    expect(await count(['events', 'other'])).toBe('101\n')
    expect(await count(['events', 'other', '--by', 'partition'])).toBe('events/0\t50\nevents/1\t50\nevents/2\t0\nother/0\t1\n')
    const keys = await countJson(['events', 'other', '--by', 'key'])
    expect(keys.buckets.slice(0, 2)).toEqual([
      {key: null, count: 50},
      {key: 'k0', count: 20},
    ])
    // A key that spells a label's own form is written in base64, so that it cannot pass for no key.
    await produceJson('spelled', [{value: 'x', key: '(null)'}, {value: 'y', key: null}, {value: 'z', key: 'base64:AA=='}])
    expect((await count(['spelled', '--by', 'key'])).split('\n').filter(Boolean).sort()).toEqual(['(null)\t1', `base64:${Buffer.from('(null)').toString('base64')}\t1`, `base64:${Buffer.from('base64:AA==').toString('base64')}\t1`].sort())
  })

  it('draws a bar per bucket on a terminal and prints columns in a pipe', async () => {
    await feed()
    const tty = await sh(`script -qec "$bin count events --by minute" /dev/null`, {env: {...t.env, COLUMNS: '80'}})
    expect(tty.code).toBe(0)
    const rows = tty.stdout.toString().split(/\r?\n/).filter((line) => line.startsWith('2026-'))
    expect(rows).toHaveLength(5)
    // The fullest bucket (40) has the longest bar; the bar lengths follow the counts.
    const bars = rows.map((line) => (line.match(/[█▏▎▍▌▋▊▉]+/) ?? [''])[0].length)
    expect(bars[0]).toBeGreaterThan(bars[2]!)
    expect(bars[2]).toBeGreaterThan(bars[1]!)
    expect(rows[0]).toMatch(/^2026-01-01T00:00Z\s+40\s+█+$/)
    expect(await count(['events', '--by', 'minute'])).toMatch(/^2026-01-01T00:00Z\t40\n/)
  })

  it('an unknown topic is one line and the exit code consume gives; a bad --by is a usage error', async () => {
    await feed()
    const consumed = await run(['consume', 'nope'], {env: t.env})
    const counted = await run(['count', 'nope'], {env: t.env})
    expect(counted.code).toBe(consumed.code)
    expect(counted.code).not.toBe(0)
    expect(counted.stdout.length).toBe(0)
    expect(counted.stderr.trim().split('\n')).toEqual([expect.stringMatching(/topic 'nope' does not exist/)])
    const bad = await run(['count', 'events', '--by', 'week'], {env: t.env})
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
  })
})
