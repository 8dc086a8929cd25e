import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, start, tempHome} from '../helpers/cli.js'

// produce --rate: the shape of the pacing (how records spread over instants), not how long it took.

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const numbers = (n: number) => Array.from({length: n}, (_, i) => String(i + 1)).join('\n') + '\n'

/** The records of a topic as [timestamp, value] in offset order. */
async function stamped(topic: string): Promise<Array<[number, string]>> {
  const out = await run(['consume', topic, '--format', '%T %v\\n'], {env: t.env})
  return out.stdout
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [time, value] = line.split(' ')
      return [Number(time), value!]
    })
}

/** How many records share each timestamp, in order. */
function perInstant(records: Array<[number, string]>): number[] {
  const counts = new Map<number, number>()
  for (const [time] of records) counts.set(time, (counts.get(time) ?? 0) + 1)
  return [...counts.values()]
}

describe('produce --rate', () => {
  it('spreads records over many instants, the first --burst at once, every record stored in order', async () => {
    const result = await run(['produce', 'paced', '--rate', '3000/s', '--burst', '40'], {env: t.env, input: numbers(600)})
    expect(result.code).toBe(0)
    const records = await stamped('paced')
    expect(records.map(([, v]) => v)).toEqual(numbers(600).trim().split('\n'))
    const counts = perInstant(records)
    // The bucket starts full: the first instant takes exactly the burst; the next slice waits for tokens.
    expect(counts[0]).toBe(40)
    // 560 more records in slices of about 5 ms worth (15), at most 40 a slice: many instants, not one lump
    // (slices catching up after a stall of a busy machine may share a millisecond, hence a low bound).
    expect(counts.length).toBeGreaterThanOrEqual(8)
    // Timestamps only move forward.
    expect(records.every(([time], i) => i === 0 || time >= records[i - 1]![0])).toBe(true)
  })

  it('without --rate the same input is one instant', async () => {
    await run(['produce', 'unpaced'], {env: t.env, input: numbers(600)})
    expect(perInstant(await stamped('unpaced'))).toHaveLength(1)
  })

  it('a produce killed mid-way has stored a prefix of its input, committed as it went', async () => {
    const producer = start(['produce', 'backfill', '--rate', '200/s', '--burst', '5'], {env: t.env})
    producer.stdin!.end(numbers(5000))
    // Wait until some records are committed, then kill it without warning.
    for (;;) {
      const seen = await run(['consume', 'backfill', '-c', '20'], {env: t.env})
      if (seen.code === 0 && seen.stdout.toString().split('\n').filter(Boolean).length >= 20) break
      await new Promise((r) => setTimeout(r, 50))
    }
    const closed = new Promise((resolve) => producer.on('close', resolve))
    producer.kill('SIGKILL')
    await closed
    const values = (await stamped('backfill')).map(([, v]) => Number(v))
    expect(values.length).toBeGreaterThanOrEqual(20)
    expect(values.length).toBeLessThan(5000)
    expect(values).toEqual(Array.from({length: values.length}, (_, i) => i + 1))
  })

  it('Ctrl-C stops where the pace has got to: the records read ahead are counted, not written at once', async () => {
    const producer = start(['produce', 'gentle', '--rate', '200/s', '--burst', '5'], {env: t.env})
    producer.stdin!.end(numbers(5000))
    let stderr = ''
    producer.stderr!.on('data', (chunk) => (stderr += chunk))
    for (;;) {
      const seen = await run(['consume', 'gentle', '-c', '20'], {env: t.env})
      if (seen.code === 0 && seen.stdout.toString().split('\n').filter(Boolean).length >= 20) break
      await new Promise((r) => setTimeout(r, 50))
    }
    const closed = new Promise<number | null>((resolve) => producer.on('close', resolve))
    producer.kill('SIGINT')
    expect(await closed).toBe(130)
    const records = await stamped('gentle')
    const values = records.map(([, v]) => Number(v))
    expect(values).toEqual(Array.from({length: values.length}, (_, i) => i + 1))
    // 5000 short lines arrive in one read: before, all of them were written at the Ctrl-C, in one instant.
    expect(values.length).toBeLessThan(1000)
    expect(Math.max(...perInstant(records))).toBeLessThanOrEqual(5)
    const note = /interrupted: stored (\d+) records; did not write the (\d+) records read after them and not yet paced/.exec(stderr)
    expect(note, stderr).not.toBeNull()
    expect(Number(note![1])).toBe(values.length)
    expect(Number(note![2])).toBeGreaterThan(0)
    expect(Number(note![1]) + Number(note![2])).toBeLessThanOrEqual(5000)
  })

  it('bad input stops at its line, with the records before it stored', async () => {
    const lines = ['{"value":"1"}', '{"value":"2"}', 'not json', '{"value":"4"}'].join('\n') + '\n'
    const result = await run(['produce', 'env', '--input', 'json', '--rate', '1000/s', '--burst', '1'], {env: t.env, input: lines})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/line 3: .*stored the 2 records before it/)
  })

  it('a rate that does not parse is a usage error before anything is stored', async () => {
    for (const bad of ['fast', '0/s', '10/d']) {
      const result = await run(['produce', 'never', '--rate', bad], {env: t.env, input: 'a\n'})
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(`spool: --rate '${bad}' is not a rate (use records per second or per minute, more than 0: 500/s, 500, 30/m, 3600/h)\n`)
    }
    const burstAlone = await run(['produce', 'never', '--burst', '5'], {env: t.env, input: 'a\n'})
    expect(burstAlone.code).toBe(2)
    expect((await run(['topic', 'list', '--json'], {env: t.env})).stdout.toString()).not.toContain('never')
  })
})
