import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

describe('spool bench', () => {
  it('writes and reads back every record, reports figures as JSON and removes its scratch topic', async () => {
    const result = await run(['bench', '-n', '20k', '--size', '64', '-p', '3', '--latency-samples', '20', '--json'], {env: t.env})
    expect(result.stderr).not.toMatch(/Error|at /)
    expect(result.code).toBe(0)
    const figures = JSON.parse(result.stdout.toString())
    expect(figures.produce.records).toBe(20_000)
    expect(figures.consume.records).toBe(20_000)
    expect(figures.partitions).toBe(3)
    expect(figures.recordBytes).toBe(64)
    expect(figures.latency.samples).toBe(20)
    expect(figures.produce.recordsPerSecond).toBeGreaterThan(0)
    const topics = await run(['topic', 'list', '--json'], {env: t.env})
    expect(JSON.parse(topics.stdout.toString())).toEqual([])
  })

  it('keeps the scratch topic with --keep, holding exactly the records it wrote', async () => {
    const result = await run(['bench', '-n', '5000', '--topic', 'load', '--keep', '--latency-samples', '5', '--json'], {env: t.env})
    expect(result.code).toBe(0)
    const count = await run(['consume', 'load'], {env: t.env})
    expect(count.stdout.toString().split('\n').filter(Boolean)).toHaveLength(5005)
  })

  it('refuses a count that does not parse, with a usage error', async () => {
    const result = await run(['bench', '-n', 'lots'], {env: t.env})
    expect(result.code).toBe(2)
    expect(result.stderr).toBe("spool: --records 'lots' is not a count (use a whole number such as 1000, 250k or 1M)\n")
  })
})
