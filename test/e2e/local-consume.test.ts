import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {envelopes, run, start, tempHome, waitForOutput} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const lines = (n: number, prefix = 'r') => Array.from({length: n}, (_, i) => `${prefix}${i}`).join('\n') + '\n'
const text = async (args: string[]) => {
  const result = await run(args, {env: t.env})
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return result.stdout.toString()
}

/** Ten records with timestamps one minute apart, ending now, in one partition. */
async function timedTopic(now: number) {
  const input = Array.from({length: 10}, (_, i) => JSON.stringify({value: `m${i}`, timestamp: now - (9 - i) * 60_000})).join('\n')
  await run(['produce', 'timed', '--input', 'json'], {env: t.env, input})
}

describe('consume positions', () => {
  beforeEach(async () => {
    await run(['produce', 'p'], {env: t.env, input: lines(10)})
  })

  it.each([
    [['--from', 'earliest'], 'r0'],
    [['--from', '7'], 'r7 r8 r9'],
    [['--from', '+8'], 'r8 r9'],
    [['--from', '-2'], 'r8 r9'],
    [['--from', 'latest'], ''],
    [['--from', '3', '--until', '5'], 'r3 r4'],
    [['--from', '-4', '--until', '-2'], 'r6 r7'],
    [['--until', '+2'], 'r0 r1'],
    [['-c', '3'], 'r0 r1 r2'],
    [['--from', '5', '-c', '2'], 'r5 r6'],
    [['--from', '100'], ''],
  ])('%j', async (args, expected) => {
    const out = (await text(['consume', 'p', ...args])).trim().split('\n').filter(Boolean)
    if (args[1] === 'earliest') expect(out).toHaveLength(10)
    else expect(out.join(' ')).toBe(expected)
  })

  it('reads @time and @-duration through the timestamps', async () => {
    const now = Date.now()
    await timedTopic(now)
    expect((await text(['consume', 'timed', '--from', `@${now - 2 * 60_000}`])).split('\n').filter(Boolean)).toEqual(['m7', 'm8', 'm9'])
    expect((await text(['consume', 'timed', '--from', '@-150s', '--until', '@-30s'])).split('\n').filter(Boolean)).toEqual(['m7', 'm8'])
    const iso = new Date(now - 9 * 60_000).toISOString()
    expect((await text(['consume', 'timed', '--until', `@${iso}`]))).toBe('')
    expect((await text(['consume', 'timed', '--from', '@2000-01-01', '-c', '1']))).toBe('m0\n')
  })
})

describe('consume output', () => {
  it('prints --format tokens and --json envelopes', async () => {
    await run(['topic', 'create', 'f', '--partitions', '2'], {env: t.env})
    await run(['produce', 'f', '-K', '=', '-p', '1'], {env: t.env, input: 'a=1\nb=2\n'})
    expect(await text(['consume', 'f', '--format', '%t:%p/%o %k=%v (%S)\\n'])).toBe('f:1/0 a=1 (1)\nf:1/1 b=2 (1)\n')
    const json = (await text(['consume', 'f', '--json'])).trim().split('\n').map((l) => JSON.parse(l))
    expect(json).toEqual([
      {topic: 'f', partition: 1, offset: 0, timestamp: expect.any(Number), key: 'a', value: '1', headers: []},
      {topic: 'f', partition: 1, offset: 1, timestamp: expect.any(Number), key: 'b', value: '2', headers: []},
    ])
  })

  it('reads several topics at once and only the partitions asked for', async () => {
    await run(['topic', 'create', 'multi', '--partitions', '3'], {env: t.env})
    for (const p of [0, 1, 2]) await run(['produce', 'multi', '-p', String(p)], {env: t.env, input: `p${p}a\np${p}b\n`})
    await run(['produce', 'other'], {env: t.env, input: 'o1\n'})
    const both = (await text(['consume', 'multi', 'other'])).split('\n').filter(Boolean).sort()
    expect(both).toEqual(['o1', 'p0a', 'p0b', 'p1a', 'p1b', 'p2a', 'p2b'])
    expect((await text(['consume', 'multi', '-p', '0,2'])).split('\n').filter(Boolean).sort()).toEqual(['p0a', 'p0b', 'p2a', 'p2b'])
    expect((await text(['consume', 'multi', '-p', '1-2', '--from', '-1'])).split('\n').filter(Boolean).sort()).toEqual(['p1b', 'p2b'])
  })
})

describe('follow', () => {
  it('consume -f prints what another process writes, and exits 0 on Ctrl-C', async () => {
    await run(['produce', 'live'], {env: t.env, input: 'before\n'})
    const follower = start(['consume', 'live', '-f'], {env: t.env})
    await waitForOutput(follower.stdout!, (s) => s.includes('before\n'))
    const seen = waitForOutput(follower.stdout!, (s) => s.includes('after-1\nafter-2\n'))
    await run(['produce', 'live'], {env: t.env, input: 'after-1\nafter-2\n'})
    await seen
    const closed = new Promise<number | null>((resolve) => follower.on('close', (code) => resolve(code)))
    follower.kill('SIGINT')
    expect(await closed).toBe(0)
  })

  it('tail prints the last -n records, then follows new ones from a producer that stays open', async () => {
    await run(['produce', 'logs'], {env: t.env, input: lines(30, 'l')})
    const tail = start(['tail', 'logs', '-n', '3'], {env: t.env})
    let output = await waitForOutput(tail.stdout!, (s) => s.includes('l29\n'))
    expect(output).toBe('l27\nl28\nl29\n')
    const producer = start(['produce', 'logs'], {env: t.env})
    const seenFirst = waitForOutput(tail.stdout!, (s) => s.includes('live-1\n'))
    producer.stdin!.write('live-1\n')
    output = await seenFirst
    const seenSecond = waitForOutput(tail.stdout!, (s) => s.includes('live-2\n'))
    producer.stdin!.write('live-2\n')
    await seenSecond
    producer.stdin!.end()
    const closed = new Promise<number | null>((resolve) => tail.on('close', (code) => resolve(code)))
    tail.kill('SIGINT')
    expect(await closed).toBe(0)
  })

  it('tail -g reads a partition added since its last run from the beginning, not from its end', async () => {
    await run(['produce', 'grows'], {env: t.env, input: 'first\n'})
    const once = async (...expected: string[]) => {
      const tail = start(['tail', 'grows', '-g', 'g1'], {env: t.env})
      const output = await waitForOutput(tail.stdout!, (s) => expected.every((e) => s.includes(e)))
      const closed = new Promise<number | null>((resolve) => tail.on('close', (code) => resolve(code)))
      tail.kill('SIGINT')
      expect(await closed).toBe(0)
      return output
    }
    expect(await once('first\n')).toBe('first\n')
    expect((await run(['topic', 'alter', 'grows', '-p', '2'], {env: t.env})).code).toBe(0)
    await run(['produce', 'grows', '-p', '1'], {env: t.env, input: 'second\n'})
    await run(['produce', 'grows', '-p', '0'], {env: t.env, input: 'third\n'})
    expect(await once('second\n', 'third\n')).toBe('third\nsecond\n')
    const described = await run(['group', 'describe', 'g1', '--json'], {env: t.env})
    expect(JSON.parse(described.stdout).map((p: {partition: number; lag: number}) => [p.partition, p.lag])).toEqual([
      [0, 0],
      [1, 0],
    ])
  })

  it('followers of a whole topic (tail, consume -f, pipe -f) read the partitions topic alter adds; -p pins stay pinned', async () => {
    await run(['topic', 'create', 'grows', '--partitions', '2'], {env: t.env})
    await run(['produce', 'grows', '-p', '0'], {env: t.env, input: 'a\n'})
    const tail = start(['tail', 'grows', '-n', '0'], {env: t.env})
    const follower = start(['consume', 'grows', '-f'], {env: t.env})
    const pinned = start(['consume', 'grows', '-f', '-p', '0'], {env: t.env})
    const piper = start(['pipe', 'grows', 'copy', '-f', '-g', 'copier'], {env: t.env})
    await waitForOutput(follower.stdout!, (s) => s === 'a\n')
    // The copy has started when its destination has the first record.
    for (let i = 0; i < 400 && (await run(['count', 'copy'], {env: t.env})).stdout.toString() !== '1\n'; i++) await new Promise((r) => setTimeout(r, 25))
    expect((await run(['topic', 'alter', 'grows', '-p', '3'], {env: t.env})).code).toBe(0)
    const both = (s: string) => s.includes('on-the-new-partition\n') && s.includes('on-0\n')
    const seen = [waitForOutput(tail.stdout!, both), waitForOutput(follower.stdout!, both), waitForOutput(pinned.stdout!, (s) => s.includes('on-0\n'))]
    await run(['produce', 'grows', '-p', '2'], {env: t.env, input: 'on-the-new-partition\n'})
    await run(['produce', 'grows', '-p', '0'], {env: t.env, input: 'on-0\n'})
    const [tailed, followed, pinnedOut] = await Promise.all(seen)
    expect(tailed!.split('\n').filter(Boolean).sort()).toEqual(['on-0', 'on-the-new-partition'])
    expect(followed!.split('\n').filter(Boolean).sort()).toEqual(['on-0', 'on-the-new-partition'])
    // The reader pinned to partition 0 never reads the new partition (its record was written first).
    expect(pinnedOut).toBe('a\non-0\n')
    for (let i = 0; i < 400 && (await run(['count', 'copy'], {env: t.env})).stdout.toString() !== '3\n'; i++) await new Promise((r) => setTimeout(r, 25))
    const stopped = [tail, follower, pinned, piper].map((p) => new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code))))
    for (const p of [tail, follower, pinned, piper]) p.kill('SIGINT')
    expect(await Promise.all(stopped)).toEqual([0, 0, 0, 0])
    const copied = await run(['consume', 'copy'], {env: t.env})
    expect(copied.stdout.toString().split('\n').filter(Boolean).sort()).toEqual(['a', 'on-0', 'on-the-new-partition'])
  })

  it('-f --until @+DURATION follows until that time, then exits 0; a record stamped later ends it at once (consume and pipe)', async () => {
    await run(['produce', 'window'], {env: t.env, input: 'old\n'})
    // Before, a time no record had reached made the read find nothing and exit at once.
    const follower = start(['consume', 'window', '-f', '--until', '@+3s'], {env: t.env})
    const closed = new Promise<number | null>((resolve) => follower.on('close', resolve))
    let output = ''
    follower.stdout!.on('data', (d: Buffer) => (output += d))
    for (let i = 0; i < 400 && output !== 'old\n'; i++) await new Promise((r) => setTimeout(r, 10))
    await run(['produce', 'window'], {env: t.env, input: 'during\n'})
    expect(await closed).toBe(0)
    expect(output).toBe('old\nduring\n')
    // A record stamped at or after the time is not printed and ends the follow there, long before it.
    const piper = start(['pipe', 'window', 'copy', '-f', '-g', 'p', '--until', '@+60s'], {env: t.env})
    const later = start(['consume', 'window', '-f', '--until', '@+60s'], {env: t.env})
    const ended = [piper, later].map((p) => new Promise<number | null>((resolve) => p.on('close', resolve)))
    let laterOutput = ''
    later.stdout!.on('data', (d: Buffer) => (laterOutput += d))
    for (let i = 0; i < 400 && laterOutput !== 'old\nduring\n'; i++) await new Promise((r) => setTimeout(r, 10))
    for (let i = 0; i < 400 && (await run(['count', 'copy'], {env: t.env})).stdout.toString() !== '2\n'; i++) await new Promise((r) => setTimeout(r, 25))
    await run(['produce', 'window', '--input', 'json'], {env: t.env, input: '{"value":"from the future","timestamp":"2099-01-01"}\n'})
    expect(await Promise.all(ended)).toEqual([0, 0])
    expect(laterOutput).toBe('old\nduring\n')
    expect((await run(['consume', 'copy'], {env: t.env})).stdout.toString()).toBe('old\nduring\n')
  })

  it('tail with the default -n prints the last 10', async () => {
    await run(['produce', 'ten'], {env: t.env, input: lines(25)})
    const tail = start(['tail', 'ten'], {env: t.env})
    const output = await waitForOutput(tail.stdout!, (s) => s.includes('r24\n'))
    expect(output.split('\n').filter(Boolean)).toEqual(Array.from({length: 10}, (_, i) => `r${15 + i}`))
    tail.kill('SIGINT')
  })
})

describe('round trip', () => {
  it('consume A --json | produce B --input json makes B identical to A', async () => {
    await run(['topic', 'create', 'a', '--partitions', '3'], {env: t.env})
    const input = [
      ...Array.from({length: 300}, (_, i) => JSON.stringify({key: `k${i % 17}`, value: `v${i}`, timestamp: 1700000000000 + i * 1000, headers: [{key: 'h', value: String(i)}, {key: 'h', value: 'dup'}]})),
      JSON.stringify({key: null, value: null, partition: 2, timestamp: 5}),
      JSON.stringify({key: Buffer.from([0xff, 0xfe]).toString('base64'), key_encoding: 'base64', value: Buffer.from([0, 1, 0x80]).toString('base64'), value_encoding: 'base64', partition: 0, headers: [{key: 'bin', value: 'gA==', value_encoding: 'base64'}, {key: 'nul', value: null}]}),
      JSON.stringify({key: '', value: '', partition: 1}),
    ].join('\n')
    expect((await run(['produce', 'a', '--input', 'json'], {env: t.env, input})).code).toBe(0)
    const {sh} = await import('../helpers/cli.js')
    // A new topic gets the partitions asked for: the copy asks for as many as the original has.
    const copy = await sh('$bin consume a --json | $bin produce b --input json --partitions 3', {env: t.env})
    expect(copy.code).toBe(0)
    const a = await envelopes(['a'], t.env)
    const b = await envelopes(['b'], t.env)
    expect(a).toHaveLength(303)
    const strip = (e: Record<string, any>) => ({...e, topic: undefined})
    const sort = (xs: Array<Record<string, any>>) => [...xs].sort((x, y) => x.partition - y.partition || x.offset - y.offset)
    expect(sort(b).map(strip)).toEqual(sort(a).map(strip))
    const describe = JSON.parse((await run(['topic', 'describe', 'b', '--json'], {env: t.env})).stdout.toString())
    expect(describe.partitions).toBe(3)
  })

  it('keeps every byte value, and characters split between neighbouring values, through consume --json | produce --input json', async () => {
    // Each byte 0x00-0xff alone and amid ASCII, then '€' (e2 82 ac) cut between two values: the column
    // of values is valid UTF-8 as a whole there while neither value is.
    const values = [
      ...Array.from({length: 256}, (_, byte) => Buffer.from([byte])),
      ...Array.from({length: 256}, (_, byte) => Buffer.concat([Buffer.from('ab'), Buffer.from([byte]), Buffer.from('cd "q" \\ é')])),
      Buffer.from([0x61, 0xe2, 0x82]),
      Buffer.from([0xac, 0x62]),
      Buffer.from('tab\there, snowman ☃, emoji 😀'),
    ]
    const input = values.map((value, i) => JSON.stringify({key: i % 3 ? value.toString('base64') : null, key_encoding: 'base64', value: value.toString('base64'), value_encoding: 'base64', timestamp: 1764064800000 + i})).join('\n')
    expect((await run(['produce', 'bytes', '--input', 'json'], {env: t.env, input})).code).toBe(0)
    const {sh} = await import('../helpers/cli.js')
    expect((await sh('$bin consume bytes --json | $bin produce copy --input json', {env: t.env})).code).toBe(0)
    const original = (await text(['consume', 'bytes', '--json'])).split('\n')
    const copy = (await text(['consume', 'copy', '--json'])).split('\n')
    expect(copy).toEqual(original.map((line) => line.replace('{"topic":"bytes"', '{"topic":"copy"')))
    const decoded = original.filter(Boolean).map((line) => JSON.parse(line) as {value: string; value_encoding?: string})
    expect(decoded.map((e) => Buffer.from(e.value, e.value_encoding === 'base64' ? 'base64' : 'utf8'))).toEqual(values)
    // Printable ASCII, DEL and whole UTF-8 characters are text; the split character and lone bytes >= 0x80 are base64.
    expect(decoded[0x41]).toEqual(expect.objectContaining({value: 'A'}))
    expect(decoded[0x7f]!.value_encoding).toBeUndefined()
    expect(decoded[0x80]!.value_encoding).toBe('base64')
    expect(decoded[512]!.value_encoding).toBe('base64')
    expect(decoded[513]!.value_encoding).toBe('base64')
    expect(decoded[514]).toEqual(expect.objectContaining({value: 'tab\there, snowman ☃, emoji 😀'}))
  })
})
