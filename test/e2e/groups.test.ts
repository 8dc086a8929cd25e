import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, start, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const lines = (n: number, from = 0) => Array.from({length: n}, (_, i) => `r${from + i}`).join('\n') + '\n'
const ok = async (args: string[]) => {
  const result = await run(args, {env: t.env})
  expect(result.stderr.replace(/^spool: (dry run|reset|deleted).*\n/m, '')).toBe('')
  expect(result.code).toBe(0)
  return result.stdout.toString()
}
const describeJson = async (group: string) => JSON.parse(await ok(['group', 'describe', group, '--json']))

describe('consumer groups', () => {
  it('consume -g starts where the group left off and commits what it wrote', async () => {
    await run(['topic', 'create', 'orders', '--partitions', '2'], {env: t.env})
    await run(['produce', 'orders', '-p', '0'], {env: t.env, input: lines(5)})
    await run(['produce', 'orders', '-p', '1'], {env: t.env, input: lines(3, 100)})
    expect((await ok(['consume', 'orders', '-g', 'billing', '-c', '2', '-p', '0'])).split('\n').filter(Boolean)).toEqual(['r0', 'r1'])
    // Partition 1 has no commit yet: it is shown, with its lag counted from its start.
    expect(await describeJson('billing')).toEqual([
      {topic: 'orders', partition: 0, committed: 2, end: 5, lag: 3},
      {topic: 'orders', partition: 1, committed: null, end: 3, lag: 3},
    ])
    const rest = (await ok(['consume', 'orders', '-g', 'billing'])).split('\n').filter(Boolean).sort()
    expect(rest).toEqual(['r100', 'r101', 'r102', 'r2', 'r3', 'r4'])
    expect(await ok(['consume', 'orders', '-g', 'billing'])).toBe('')
    await run(['produce', 'orders', '-p', '1'], {env: t.env, input: 'new\n'})
    expect(await ok(['consume', 'orders', '-g', 'billing'])).toBe('new\n')
    expect(await describeJson('billing')).toEqual([
      {topic: 'orders', partition: 0, committed: 5, end: 5, lag: 0},
      {topic: 'orders', partition: 1, committed: 4, end: 4, lag: 0},
    ])
    // A group with no offsets starts from --from.
    expect(await ok(['consume', 'orders', '-g', 'late', '--from', 'latest'])).toBe('')
  })

  it('list, describe tables, and delete', async () => {
    await run(['produce', 'a'], {env: t.env, input: lines(4)})
    await ok(['consume', 'a', '-g', 'g1', '-c', '1'])
    await ok(['consume', 'a', '-g', 'g2'])
    expect(JSON.parse(await ok(['group', 'list', '--json']))).toEqual([
      {group: 'g1', topics: ['a'], partitions: 1, lag: 3},
      {group: 'g2', topics: ['a'], partitions: 1, lag: 0},
    ])
    expect(await ok(['group', 'list'])).toMatch(/^GROUP\s+TOPICS\s+PARTITIONS\s+LAG\ng1\s+a\s+1\s+3\ng2\s+a\s+1\s+0\n$/)
    expect(await ok(['group', 'describe', 'g1'])).toMatch(/^TOPIC\s+PARTITION\s+COMMITTED\s+END\s+LAG\na\s+0\s+1\s+4\s+3\n$/)
    const deleted = await run(['group', 'delete', 'g1'], {env: t.env})
    expect(deleted.code).toBe(0)
    const gone = await run(['group', 'describe', 'g1'], {env: t.env})
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/^spool: consumer group 'g1' has no committed offsets/)
    expect((await run(['group', 'delete', 'g1'], {env: t.env})).code).toBe(1)
    // --yes, which topic delete requires, is taken here too (scripts pass it to every delete).
    expect((await run(['group', 'delete', 'g2', '--yes'], {env: t.env})).code).toBe(0)
    expect(JSON.parse(await ok(['group', 'list', '--json']))).toEqual([])
  })

  it('reset takes --to or --shift-by (+N too), not both, each refused in one line', async () => {
    await run(['produce', 's'], {env: t.env, input: '1\n2\n3\n4\n5\n'})
    await run(['consume', 's', '-g', 'g', '-c', '2'], {env: t.env})
    const both = await run(['group', 'reset', 'g', '--to', '1', '--shift-by', '1'], {env: t.env})
    // oclif's own check printed "--to=[object Object] cannot also be provided when using --shift-by".
    expect([both.code, both.stderr]).toEqual([2, 'spool: give --to or --shift-by, not both (a reset either moves to a position or moves by a number of records)\n'])
    const forward = await run(['group', 'reset', 'g', '--shift-by', '+2', '--execute'], {env: t.env})
    expect(forward.code, forward.stderr).toBe(0)
    expect(JSON.parse((await run(['group', 'describe', 'g', '--json'], {env: t.env})).stdout.toString())[0].committed).toBe(4)
    expect((await run(['group', 'reset', 'g', '--shift-by', '-3', '--execute'], {env: t.env})).code).toBe(0)
    expect(JSON.parse((await run(['group', 'describe', 'g', '--json'], {env: t.env})).stdout.toString())[0].committed).toBe(1)
    expect((await run(['cursor', 'reset', 'c', '--to', '1', '--shift-by', '1'], {env: t.env})).code).toBe(2)
  })

  it('reset shows the plan and changes nothing without --execute; with it, the group moves', async () => {
    await run(['topic', 'create', 'r', '--partitions', '2'], {env: t.env})
    await run(['produce', 'r', '-p', '0'], {env: t.env, input: lines(10)})
    await run(['produce', 'r', '-p', '1'], {env: t.env, input: lines(6)})
    await ok(['consume', 'r', '-g', 'g'])
    const before = await describeJson('g')

    const dry = await run(['group', 'reset', 'g', '--to', 'earliest', '--json'], {env: t.env})
    expect(dry.code).toBe(0)
    expect(dry.stderr).toBe('spool: dry run, nothing changed; add --execute to apply\n')
    expect(JSON.parse(dry.stdout.toString())).toEqual([
      {topic: 'r', partition: 0, current: 10, target: 0, applied: false},
      {topic: 'r', partition: 1, current: 6, target: 0, applied: false},
    ])
    expect(await describeJson('g')).toEqual(before)

    const shifted = await run(['group', 'reset', 'g', '--shift-by', '-3', '--execute'], {env: t.env})
    expect(shifted.code).toBe(0)
    expect(shifted.stderr).toBe("spool: reset consumer group 'g' on 2 partitions\n")
    expect((await describeJson('g')).map((r: any) => r.committed)).toEqual([7, 3])
    expect((await ok(['consume', 'r', '-g', 'g'])).split('\n').filter(Boolean).sort()).toEqual(['r3', 'r4', 'r5', 'r7', 'r8', 'r9'])

    await ok(['group', 'reset', 'g', '--to', '2', '--topic', 'r', '--execute'])
    expect((await describeJson('g')).map((r: any) => r.committed)).toEqual([2, 2])
    const table = await ok(['group', 'reset', 'g', '--to', 'latest'])
    expect(table).toMatch(/^TOPIC\s+PARTITION\s+CURRENT\s+NEW\nr\s+0\s+2\s+10\nr\s+1\s+2\s+6\n$/)
    const neither = await run(['group', 'reset', 'g'], {env: t.env})
    expect(neither.code).toBe(2)
  })

  it('a reader killed with SIGKILL at any moment resumes without skipping a record', async () => {
    const total = 60_000
    await run(['produce', 'feed', '--partitions', '2'], {env: t.env, input: lines(total)})
    const seen: string[] = []
    for (let round = 0; round < 12; round++) {
      // A reader into a slow pipe, killed after a random amount of output.
      const reader = start(['consume', 'feed', '-g', 'resume'], {env: t.env})
      const chunks: Buffer[] = []
      const budget = 20_000 + Math.floor(Math.random() * 60_000)
      let bytes = 0
      const closed = new Promise((resolve) => reader.on('close', resolve))
      reader.stdout!.on('data', (d: Buffer) => {
        chunks.push(d)
        bytes += d.length
        if (bytes >= budget) reader.kill('SIGKILL')
        else {
          reader.stdout!.pause()
          setTimeout(() => reader.stdout!.resume(), 2)
        }
      })
      await closed
      const text = Buffer.concat(chunks).toString()
      // Only whole lines count as read; a torn last line is re-read next time.
      seen.push(...text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean))
    }
    seen.push(...(await ok(['consume', 'feed', '-g', 'resume'])).split('\n').filter(Boolean))
    const unique = new Set(seen)
    expect(unique.size).toBe(total)
    for (let i = 0; i < total; i++) expect(unique.has(`r${i}`)).toBe(true)
  }, 120_000)
})
