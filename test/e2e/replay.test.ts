import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {envelopes, run, start, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const T0 = 1_700_000_000_000

/** A capture over two partitions: gaps of 200 ms, 1.5 s in all. */
async function capture() {
  await run(['topic', 'create', 'cap', '--partitions', '2'], {env: t.env})
  const lines = Array.from({length: 8}, (_, i) => JSON.stringify({value: `e${i}`, timestamp: T0 + i * 200, partition: i % 2, key: `k${i}`, headers: [{key: 'n', value: String(i)}]}))
  await run(['produce', 'cap', '--input', 'json'], {env: t.env, input: lines.join('\n')})
}

describe('replay', () => {
  it('re-emits at the original pace, in timestamp order across partitions, each record on time', async () => {
    await capture()
    // Taken before the replay starts, so before the moment its schedule counts from.
    const spawned = performance.now()
    const child = start(['replay', 'cap'], {env: t.env})
    const arrivals: Array<[string, number]> = []
    let pending = ''
    child.stdout!.on('data', (d: Buffer) => {
      const now = performance.now()
      pending += d.toString()
      let at
      while ((at = pending.indexOf('\n')) >= 0) {
        arrivals.push([pending.slice(0, at), now])
        pending = pending.slice(at + 1)
      }
    })
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(arrivals.map(([v]) => v)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7'])
    // Lower bounds only: a record never comes early (scheduling can only make it late). The reference is
    // a moment before the replay started, which its schedule cannot precede: record i leaves at least
    // i * 200 ms after it, however late a busy machine delivers any record. The first record's arrival was
    // no sound reference: delivered late (or together with the second after a stall of this process), it
    // made a later record look early (seen in CI: 194 ms after a first record seen 6 ms late). A replay
    // that does not pace still fails: its records all arrive at its start-up, well before the 1.4 s the
    // last one must wait (the bound is weaker only on a machine so busy that start-up takes that long).
    arrivals.forEach(([, at], i) => expect(at - spawned, `e${i}`).toBeGreaterThanOrEqual(i * 200))
  })

  it('--speed scales the gaps and --speed max does not pace', async () => {
    await capture()
    const started = performance.now()
    const fast = await run(['replay', 'cap', '--speed', 'max', '--format', '%p:%v\\n'], {env: t.env})
    expect(fast.stdout.toString()).toBe('0:e0\n1:e1\n0:e2\n1:e3\n0:e4\n1:e5\n0:e6\n1:e7\n')
    const tenTimes = performance.now()
    const scaled = await run(['replay', 'cap', '--speed', '10'], {env: t.env})
    expect(scaled.code).toBe(0)
    expect(performance.now() - tenTimes).toBeGreaterThanOrEqual(140)
    expect(started).toBeLessThan(tenTimes)
  })

  it('--from/--until pick the range and --rate ignores the timestamps', async () => {
    await capture()
    const ranged = await run(['replay', 'cap', '--from', `@${T0 + 400}`, '--until', `@${T0 + 1000}`, '--speed', 'max'], {env: t.env})
    expect(ranged.stdout.toString()).toBe('e2\ne3\ne4\n')
    const before = performance.now()
    const slow = await run(['replay', 'cap', '--rate', '20/s', '--from', '-2'], {env: t.env})
    expect(slow.stdout.toString()).toBe('e4\ne5\ne6\ne7\n')
    expect(performance.now() - before).toBeGreaterThanOrEqual(150)
  })

  it('--to writes into a topic, keeping keys, headers, timestamps and partitions; --retime stamps the time of writing', async () => {
    await capture()
    const replayed = await run(['replay', 'cap', '--speed', 'max', '--to', 'copy'], {env: t.env})
    expect(replayed.code).toBe(0)
    expect(replayed.stderr).toMatch(/replayed 8 records into copy/)
    const strip = (e: Record<string, any>) => ({partition: e.partition, offset: e.offset, timestamp: e.timestamp, key: e.key, value: e.value, headers: e.headers})
    expect((await envelopes(['copy'], t.env)).map(strip)).toEqual((await envelopes(['cap'], t.env)).map(strip))

    const before = Date.now()
    await run(['replay', 'cap', '--speed', 'max', '--to', 'retimed', '--retime'], {env: t.env})
    const retimed = await envelopes(['retimed'], t.env)
    expect(retimed).toHaveLength(8)
    for (const e of retimed) expect(e.timestamp).toBeGreaterThanOrEqual(before)
  })

  it('--max-gap caps long silences', async () => {
    await run(['produce', 'gappy', '--input', 'json'], {env: t.env, input: `{"value":"a","timestamp":${T0}}\n{"value":"b","timestamp":${T0 + 3_600_000}}\n`})
    const result = await run(['replay', 'gappy', '--max-gap', '100ms'], {env: t.env})
    expect(result.code).toBe(0)
    expect(result.stdout.toString()).toBe('a\nb\n')
  })

  it('a paced replay into a reader that goes away (| head -1) ends at its next write, not after the next wait', async () => {
    // The third record is due an hour in: before, the replay slept through it after its failed write.
    const records = [0, 300, 3_600_000].map((at, i) => JSON.stringify({value: `r${i}`, timestamp: T0 + at}))
    await run(['produce', 'slow', '--input', 'json'], {env: t.env, input: records.join('\n')})
    const {sh} = await import('../helpers/cli.js')
    const result = await sh('$bin replay slow | head -1; echo "status ${PIPESTATUS[0]}"', {env: t.env})
    expect(result.stdout.toString()).toBe('r0\nstatus 0\n')
    expect(result.stderr).toBe('')
  }, 30_000)

  it('refuses bad pacing with a usage error', async () => {
    await capture()
    for (const args of [['--speed', 'fast'], ['--speed', '0'], ['--rate', 'lots'], ['--retime']]) {
      const result = await run(['replay', 'cap', ...args], {env: t.env})
      expect(result.code).toBe(2)
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    }
  })
})
