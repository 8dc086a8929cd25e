import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {LocalBackend} from '../../src/backends/local/local-store.js'
import type {Backend} from '../../src/core/backend.js'
import {PendingBatch, type RecordBatch} from '../../src/core/record.js'
import {type Clock, Pacer, replay} from '../../src/ops/replay.js'
import type {RecordSink} from '../../src/ops/sinks.js'

describe('Pacer', () => {
  const dues = (pacer: Pacer, timestamps: number[]) => timestamps.map((ts) => pacer.next(ts))

  it('keeps the original gaps at speed 1, on one timeline from the first record', () => {
    expect(dues(new Pacer({kind: 'speed', speed: 1}), [1000, 1300, 1300, 2000, 62_000])).toEqual([0, 300, 300, 1000, 61_000])
  })
  it('divides the gaps by the speed', () => {
    expect(dues(new Pacer({kind: 'speed', speed: 10}), [0, 1000, 1500, 61_500])).toEqual([0, 100, 150, 6150])
    expect(dues(new Pacer({kind: 'speed', speed: 0.5}), [0, 100])).toEqual([0, 200])
  })
  it('caps each silence at --max-gap, after scaling', () => {
    expect(dues(new Pacer({kind: 'speed', speed: 2, maxGapMs: 5000}), [0, 4000, 3_604_000, 3_605_000])).toEqual([0, 2000, 7000, 7500])
  })
  it('treats a timestamp that goes backwards as no gap, and paces what follows from the latest time seen', () => {
    // Paced from the record before, 6000 waited out the step back again: due at 2000, not 1000.
    expect(dues(new Pacer({kind: 'speed', speed: 1}), [5000, 4000, 4500, 6000])).toEqual([0, 0, 0, 1000])
    expect(dues(new Pacer({kind: 'speed', speed: 1}), [10_000, 11_000, 5000, 12_000])).toEqual([0, 1000, 1000, 2000])
  })
  it('spaces records evenly at a fixed rate, whatever the timestamps', () => {
    expect(dues(new Pacer({kind: 'rate', perSecond: 4}), [0, 0, 999_999, 5])).toEqual([0, 250, 500, 750])
  })
  it('does not pace at --speed max', () => {
    const pacer = new Pacer({kind: 'speed', speed: Number.POSITIVE_INFINITY})
    expect(pacer.unpaced).toBe(true)
    expect(dues(pacer, [0, 10_000, 20_000])).toEqual([0, 0, 0])
  })
})

/** A clock that jumps to each wake-up time, plus a late wake-up to show lateness does not accumulate. */
class FakeClock implements Clock {
  time = 1_000_000
  sleeps = 0
  constructor(private readonly lateByMs = 0) {}
  now() {
    return this.time
  }
  async sleepUntil(time: number) {
    this.sleeps++
    if (time > this.time) this.time = time + this.lateByMs
  }
}

class CollectingSink implements RecordSink {
  readonly guarantee = 'at-least-once' as const
  private buffer: Array<{value: string; partition: number}> = []
  readonly emitted: Array<{value: string; partition: number; at: number}> = []
  constructor(private readonly clock: Clock) {}
  get pending() {
    return this.buffer.length
  }
  add(batch: RecordBatch, index: number) {
    this.buffer.push({value: batch.valueAt(index)!.toString(), partition: batch.partition})
  }
  async flush() {
    for (const record of this.buffer.splice(0)) this.emitted.push({...record, at: this.clock.now()})
  }
}

describe('replay with a fake clock', () => {
  let dir: string
  let backend: Backend
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spool-replay-'))
    backend = new LocalBackend({path: join(dir, 'spool.db')})
    await backend.createTopic('capture', {partitions: 3})
  })
  afterEach(async () => {
    await backend.close()
    rmSync(dir, {recursive: true, force: true})
  })

  async function write(partition: number, records: Array<[string, number]>) {
    const batch = new PendingBatch(partition)
    for (const [value, ts] of records) batch.add(Buffer.from(value), null, null, ts, value.length)
    await backend.append('capture', [batch])
  }
  const everything = async () =>
    (await backend.describeTopic('capture')).partitionInfo.map((p) => ({topic: 'capture', partition: p.partition, from: p.start, until: p.end}))

  it('emits across partitions in timestamp order, ties broken by partition then offset, each at its due time', async () => {
    await write(0, [['a', 0], ['d', 2000], ['e', 2000]])
    await write(1, [['b', 1000], ['f', 2000]])
    await write(2, [['c', 1500], ['g', 60_000]])
    const clock = new FakeClock()
    const sink = new CollectingSink(clock)
    const result = await replay(backend, await everything(), {pacing: {kind: 'speed', speed: 1}, sink, signal: new AbortController().signal, clock})
    expect(sink.emitted.map((e) => e.value).join('')).toBe('abcdefg')
    expect(sink.emitted.map((e) => e.at - 1_000_000)).toEqual([0, 1000, 1500, 2000, 2000, 2000, 60_000])
    expect(result).toMatchObject({written: 7, scheduledMs: 60_000, elapsedMs: 60_000})
  })

  it('does not let late wake-ups add up: 1,000 gaps each woken 3 ms late end 3 ms late, not 3 s', async () => {
    await write(0, Array.from({length: 1001}, (_, i) => [`r${i}`, i * 60] as [string, number]))
    const clock = new FakeClock(3)
    const sink = new CollectingSink(clock)
    const result = await replay(backend, await everything(), {pacing: {kind: 'speed', speed: 1}, sink, signal: new AbortController().signal, clock})
    expect(result.scheduledMs).toBe(60_000)
    expect(result.elapsedMs).toBe(60_003)
    // Every record leaves within the lateness of its own due time.
    sink.emitted.forEach((e, i) => expect(e.at - 1_000_000 - i * 60).toBeGreaterThanOrEqual(0))
    sink.emitted.forEach((e, i) => expect(e.at - 1_000_000 - i * 60).toBeLessThanOrEqual(3))
  })

  it('runs --speed max without sleeping, and --rate on its own timeline', async () => {
    await write(0, Array.from({length: 100}, (_, i) => [`r${i}`, i * 10_000] as [string, number]))
    const fast = new FakeClock()
    await replay(backend, await everything(), {pacing: {kind: 'speed', speed: Number.POSITIVE_INFINITY}, sink: new CollectingSink(fast), signal: new AbortController().signal, clock: fast})
    expect(fast.sleeps).toBe(0)
    const rated = new FakeClock()
    const sink = new CollectingSink(rated)
    const result = await replay(backend, await everything(), {pacing: {kind: 'rate', perSecond: 50}, sink, signal: new AbortController().signal, clock: rated})
    expect(result.elapsedMs).toBe(99 * 20)
    expect(sink.emitted[10]!.at - sink.emitted[9]!.at).toBe(20)
  })

  it('stops when the signal aborts', async () => {
    await write(0, Array.from({length: 10}, (_, i) => [`r${i}`, i * 1000] as [string, number]))
    const controller = new AbortController()
    const clock = new FakeClock()
    const sink = new CollectingSink(clock)
    const sleep = clock.sleepUntil.bind(clock)
    clock.sleepUntil = async (time: number) => {
      if (clock.time - 1_000_000 >= 3000) controller.abort()
      await sleep(time)
    }
    const result = await replay(backend, await everything(), {pacing: {kind: 'speed', speed: 1}, sink, signal: controller.signal, clock})
    expect(result.written).toBe(4)
    expect(sink.emitted.map((e) => e.value)).toEqual(['r0', 'r1', 'r2', 'r3'])
  })
})
