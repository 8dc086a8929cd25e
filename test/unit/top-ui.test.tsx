import {render} from 'ink-testing-library'
import {describe, expect, it} from 'vitest'
import type {FeedRecord} from '../../src/core/record.js'
import {sparkline, type TopSnapshot} from '../../src/ops/top.js'
import {TopApp, TopView} from '../../src/ui/top.js'

const snapshot = (at: number, ordersEnd: number, history: number[] = [0]): TopSnapshot => ({
  at,
  location: '/tmp/spool.db',
  topics: [
    {name: 'clicks', partitions: 3, records: 1500, bytes: 2048, end: 1500, rate: 0, history: [0]},
    {name: 'orders', partitions: 1, records: ordersEnd, bytes: 4096, end: ordersEnd, rate: history.at(-1)!, history},
  ],
  groups: [{group: 'billing', topics: ['orders'], partitions: 1, lag: 42}],
})

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms))

/** Waits for `check` for up to 5 s (a loaded machine delays Ink's redraws); the assertion after it decides. */
async function until(check: () => boolean) {
  for (let i = 0; i < 500 && !check(); i++) await tick(10)
}

describe('spool top', () => {
  it('draws topics with their rate and activity, and groups with their lag', () => {
    const {lastFrame} = render(<TopView snapshot={snapshot(0, 10, [0, 50, 100])} selected={1} intervalMs={1000} />)
    const frame = lastFrame()!
    expect(frame).toMatch(/clicks\s+3\s+1,500\s+2.0 KiB\s+0/)
    expect(frame).toMatch(/› orders\s+1\s+10\s+4.0 KiB\s+100\s+▁▅█/)
    expect(frame).toMatch(/billing\s+42\s+orders/)
  })

  it('scales a sparkline to its maximum', () => {
    expect(sparkline([0, 5, 10], 3)).toBe('▁▅█')
    expect(sparkline([0, 0], 4)).toBe('  ▁▁')
  })

  it('refreshes, moves the selection with the arrow keys, peeks with Enter, goes back with Esc and quits on q', async () => {
    let loads = 0
    const peeked: string[] = []
    const records: FeedRecord[] = [{topic: 'orders', partition: 0, offset: 7, timestamp: 0, key: Buffer.from('k'), value: Buffer.from('line\twith tab'), headers: []}]
    const app = render(
      <TopApp
        load={async () => snapshot(++loads, 10 * loads)}
        peek={async (topic) => {
          peeked.push(topic)
          return records
        }}
        intervalMs={20}
      />,
    )
    await until(() => loads >= 3)
    expect(app.lastFrame()).toMatch(/› clicks/)
    app.stdin.write('\u001B[B') // down
    await until(() => /› orders/.test(app.lastFrame()!))
    expect(app.lastFrame()).toMatch(/› orders/)
    app.stdin.write('\r')
    await until(() => /0\/7/.test(app.lastFrame()!))
    expect(app.lastFrame()).toMatch(/orders · newest records/)
    expect(app.lastFrame()).toMatch(/0\/7\s+k=line\\twith tab/)
    expect(peeked[0]).toBe('orders')
    app.stdin.write('\u001B') // Esc
    await until(() => /TOPIC/.test(app.lastFrame()!))
    expect(app.lastFrame()).toMatch(/› orders/)
    app.stdin.write('q')
    await tick()
    const loadsAtQuit = loads
    await tick(100)
    expect(loads).toBe(loadsAtQuit) // no refresh after quitting
  })

  it('goes back on an Esc typed right after Enter, before the peek has drawn', async () => {
    let loads = 0
    const app = render(<TopApp load={async () => snapshot(++loads, 10 * loads)} peek={async () => []} intervalMs={20} />)
    await until(() => loads >= 2)
    app.stdin.write('\r')
    app.stdin.write('\u001B')
    await tick(100)
    expect(app.lastFrame()).toMatch(/TOPIC/)
    expect(app.lastFrame()).not.toMatch(/newest records/)
  })

  it('shows a failing refresh as a line and keeps going', async () => {
    let calls = 0
    // The refresh after the failure waits for the test, so a loaded machine cannot replace the error
    // line before the test has looked at it.
    let recover!: () => void
    const recovered = new Promise<void>((resolve) => (recover = resolve))
    const app = render(
      <TopApp
        load={async () => {
          if (++calls === 1) throw new Error('cannot reach Kafka at k1:9092')
          await recovered
          return snapshot(calls, 5)
        }}
        peek={async () => []}
        intervalMs={20}
      />,
    )
    await until(() => calls >= 1 && /cannot reach/.test(app.lastFrame()!))
    expect(app.lastFrame()).toMatch(/cannot reach Kafka at k1:9092/)
    recover()
    // The frame after the next good refresh: a redraw can come after the refresh that asked for it.
    await until(() => calls >= 3 && !/cannot reach/.test(app.lastFrame()!))
    expect(calls).toBeGreaterThanOrEqual(3)
    expect(app.lastFrame()).not.toMatch(/cannot reach/)
    app.unmount()
  })
})
