import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, start, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const T0 = 1_700_000_000_000

/** Resolves once `holds()` is true (checked every 20 ms); fails after 20 s. */
async function eventually(holds: () => boolean, what: () => string): Promise<void> {
  for (const started = Date.now(); !holds(); await new Promise((resolve) => setTimeout(resolve, 20)))
    if (Date.now() - started > 20_000) throw new Error(`timed out; saw: ${JSON.stringify(what())}`)
}

async function produceJson(topic: string, records: Array<Record<string, unknown>>, extra: string[] = []) {
  const result = await run(['produce', topic, '--input', 'json', ...extra], {env: t.env, input: records.map((r) => JSON.stringify(r)).join('\n')})
  expect(result.code, result.stderr).toBe(0)
}

/** Two topics, three partitions; ties on the timestamp across topics, across partitions and within one. */
async function feeds() {
  await run(['topic', 'create', 'orders', '-p', '2'], {env: t.env})
  await run(['topic', 'create', 'clicks'], {env: t.env})
  await produceJson('orders', [
    {value: 'o0', timestamp: T0 + 10, partition: 0},
    {value: 'o1', timestamp: T0 + 30, partition: 0},
    {value: 'o2', timestamp: T0 + 30, partition: 0},
    {value: 'o3', timestamp: T0 + 20, partition: 1},
    {value: 'o4', timestamp: T0 + 30, partition: 1},
  ])
  await produceJson('clicks', [
    {value: 'c0', timestamp: T0 + 5},
    {value: 'c1', timestamp: T0 + 30},
    {value: 'c2', timestamp: T0 + 40},
  ])
}

describe('consume --merge', () => {
  it('orders every partition of every topic by timestamp, ties by topic name, partition, offset', async () => {
    await feeds()
    // The topics are named in reverse order: ties still go by topic name.
    const merged = await run(['consume', 'orders', 'clicks', '--merge', '--format', '%t/%p/%o %v\\n'], {env: t.env})
    expect(merged.code, merged.stderr).toBe(0)
    expect(merged.stdout.toString()).toBe(
      ['clicks/0/0 c0', 'orders/0/0 o0', 'orders/1/0 o3', 'clicks/0/1 c1', 'orders/0/1 o1', 'orders/0/2 o2', 'orders/1/1 o4', 'clicks/0/2 c2', ''].join('\n'),
    )
    // Without --merge the order stays partition by partition.
    const plain = await run(['consume', 'orders', 'clicks', '--format', '%v '], {env: t.env})
    expect(plain.stdout.toString()).toBe('o0 o1 o2 o3 o4 c0 c1 c2 ')
  })

  it('takes --filter: the merged timeline of the records that pass, -c counting those, a throw after what came before', async () => {
    await feeds()
    const merged = await run(['consume', 'orders', 'clicks', '--merge', '--filter', "r.value !== 'o3' && r.value !== 'c1'", '-c', '4', '--format', '%v '], {env: t.env})
    expect(merged.code, merged.stderr).toBe(0)
    expect(merged.stdout.toString()).toBe('c0 o0 o1 o2 ')
    const failing = await run(['consume', 'orders', 'clicks', '--merge', '--filter', "r.value === 'o1' ? r.nothing.here : true", '--format', '%v '], {env: t.env})
    expect(failing.code).toBe(1)
    expect(failing.stdout.toString()).toBe('c0 o0 o3 c1 ')
    expect(failing.stderr.toString()).toMatch(/--filter .* failed on orders\/0@1: /)
  })

  it('keeps a partition in offset order when its own timestamps go back', async () => {
    await run(['topic', 'create', 'late', '-p', '2'], {env: t.env})
    await produceJson('late', [
      {value: 'p0-a', timestamp: T0 + 100, partition: 0},
      {value: 'p0-b', timestamp: T0 + 50, partition: 0},
      {value: 'p1-a', timestamp: T0 + 70, partition: 1},
    ])
    const merged = await run(['consume', 'late', '--merge'], {env: t.env})
    expect(merged.stdout.toString()).toBe('p1-a\np0-a\np0-b\n')
  })

  it('works with positions, -c and --json', async () => {
    await feeds()
    const windowed = await run(['consume', 'clicks', 'orders', '--merge', '--from', `@${T0 + 20}`, '--until', `@${T0 + 40}`, '--format', '%v '], {env: t.env})
    expect(windowed.stdout.toString()).toBe('o3 c1 o1 o2 o4 ')
    const limited = await run(['consume', 'clicks', 'orders', '--merge', '-c', '3', '--json'], {env: t.env})
    const lines = limited.stdout.toString().trim().split('\n').map((line) => JSON.parse(line))
    expect(lines.map((e) => [e.topic, e.partition, e.offset, e.timestamp, e.value])).toEqual([
      ['clicks', 0, 0, T0 + 5, 'c0'],
      ['orders', 0, 0, T0 + 10, 'o0'],
      ['orders', 1, 0, T0 + 20, 'o3'],
    ])
    const last = await run(['consume', 'clicks', 'orders', '--merge', '--from', '-1', '--format', '%v '], {env: t.env})
    expect(last.stdout.toString()).toBe('o2 o4 c2 ')
  })

  it('-g commits what was written: a second merged read continues where the first stopped', async () => {
    await feeds()
    const first = await run(['consume', 'orders', 'clicks', '--merge', '-g', 'audit', '-c', '4', '--format', '%v '], {env: t.env})
    expect(first.stdout.toString()).toBe('c0 o0 o3 c1 ')
    const rest = await run(['consume', 'orders', 'clicks', '--merge', '-g', 'audit', '--format', '%v '], {env: t.env})
    expect(rest.stdout.toString()).toBe('o1 o2 o4 c2 ')
  })

  it('--max-wait needs --merge: a usage error', async () => {
    await feeds()
    const result = await run(['consume', 'orders', '--max-wait', '1s'], {env: t.env})
    expect(result.code).toBe(2)
    expect(result.stdout.length).toBe(0)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('following, an idle input holds the others back for --max-wait only', async () => {
    await run(['topic', 'create', 'busy'], {env: t.env})
    await run(['topic', 'create', 'quiet'], {env: t.env})
    const child = start(['consume', 'busy', 'quiet', '--merge', '-f', '--max-wait', '300ms'], {env: t.env})
    let seen = ''
    child.stdout!.on('data', (d: Buffer) => (seen += d.toString()))
    try {
      await produceJson('busy', [{value: 'b0', timestamp: T0}, {value: 'b1', timestamp: T0 + 1}])
      // quiet never writes: without the wait bound the merge would hold b0 forever.
      await eventually(() => seen === 'b0\nb1\n', () => seen)
      await produceJson('busy', [{value: 'b2', timestamp: T0 + 2}])
      await eventually(() => seen === 'b0\nb1\nb2\n', () => seen)
    } finally {
      child.kill('SIGINT')
    }
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0)
  })

  it('following, a lagging topic is waited for within --max-wait, so its earlier records come first', async () => {
    await run(['topic', 'create', 'fast'], {env: t.env})
    await run(['topic', 'create', 'slow'], {env: t.env})
    const child = start(['consume', 'fast', 'slow', '--merge', '-f', '--max-wait', '10m'], {env: t.env})
    let seen = ''
    child.stdout!.on('data', (d: Buffer) => (seen += d.toString()))
    try {
      await produceJson('fast', [{value: 'fast@100', timestamp: T0 + 100}])
      // Give the follower time to see fast@100 before slow's earlier record exists.
      await new Promise((resolve) => setTimeout(resolve, 1000))
      await produceJson('slow', [{value: 'slow@50', timestamp: T0 + 50}])
      await produceJson('slow', [{value: 'slow@150', timestamp: T0 + 150}])
      await produceJson('fast', [{value: 'fast@200', timestamp: T0 + 200}])
      await eventually(() => seen.includes('slow@150'), () => seen)
    } finally {
      child.kill('SIGINT')
    }
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0)
    expect(seen).toBe('slow@50\nfast@100\nslow@150\n')
  })
})
