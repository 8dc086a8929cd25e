import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ROOT, envelopes, run, start, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const lines = (from: number, to: number) => Array.from({length: to - from}, (_, i) => `r${from + i}`).join('\n') + '\n'
const out = (r: {stdout: Buffer}) => r.stdout.toString('utf8')
const json = (r: {stdout: Buffer}) => JSON.parse(out(r))

/** Rows of a store's table, read straight from the file. */
function rows(path: string, sql: string): unknown[] {
  const db = new Database(path, {readonly: true})
  try {
    return db.prepare(sql).all()
  } finally {
    db.close()
  }
}

describe('--cursor', () => {
  it('consume resumes after the last record written: -c 10 twice gives 0-9 then 10-19, then the rest', async () => {
    await run(['produce', 'events'], {env: t.env, input: lines(0, 30)})
    expect(out(await run(['consume', 'events', '--cursor', 'c', '-c', '10'], {env: t.env}))).toBe(lines(0, 10))
    expect(out(await run(['consume', 'events', '--cursor', 'c', '-c', '10'], {env: t.env}))).toBe(lines(10, 20))
    await run(['produce', 'events'], {env: t.env, input: lines(30, 35)})
    expect(out(await run(['consume', 'events', '--cursor', 'c'], {env: t.env}))).toBe(lines(20, 35))
    expect(out(await run(['consume', 'events', '--cursor', 'c'], {env: t.env}))).toBe('')
    // Another cursor is independent; the first run of a cursor starts at --from.
    expect(out(await run(['consume', 'events', '--cursor', 'other', '--from', '-2'], {env: t.env}))).toBe(lines(33, 35))
    // A cursor is not a consumer group: none was created.
    expect(rows(t.store, 'SELECT * FROM group_offsets')).toEqual([])
  })

  it('a first run that reads nothing (--from latest) still sets the position: the next run reads only what is new', async () => {
    const text = async (args: string[]) => {
      const result = await run(args, {env: t.env})
      expect(result.code, result.stderr).toBe(0)
      return result.stdout.toString()
    }
    await run(['produce', 'quiet'], {env: t.env, input: '1\n2\n'})
    // Before, neither kept a position, and the second runs printed 1, 2 and 3.
    expect(await text(['consume', 'quiet', '--cursor', 'c', '--from', 'latest'])).toBe('')
    expect(await text(['consume', 'quiet', '-g', 'g', '--from', 'latest'])).toBe('')
    expect(await text(['pipe', 'quiet', 'copy', '--cursor', 'p', '--from', 'latest'])).toBe('')
    expect(await text(['replay', 'quiet', '--cursor', 'r', '--from', 'latest', '--speed', 'max'])).toBe('')
    await run(['produce', 'quiet'], {env: t.env, input: '3\n'})
    expect(await text(['consume', 'quiet', '--cursor', 'c'])).toBe('3\n')
    expect(await text(['consume', 'quiet', '-g', 'g'])).toBe('3\n')
    expect(await text(['replay', 'quiet', '--cursor', 'r', '--speed', 'max'])).toBe('3\n')
    await text(['pipe', 'quiet', 'copy', '--cursor', 'p'])
    expect(await text(['consume', 'copy'])).toBe('3\n')
  })

  it('keeps the position in --store, not in the source store, which is only read', async () => {
    const source = join(t.home, 'source.db')
    const cursors = join(t.home, 'cursors.db')
    await run(['produce', 'events', '-b', `file:${source}`], {env: t.env, input: lines(0, 6)})
    const env = {...t.env, SPOOL_BROKER: `file:${source}`}
    expect(out(await run(['consume', 'events', '--cursor', 'c', '-c', '4', '--store', cursors], {env}))).toBe(lines(0, 4))
    expect(out(await run(['consume', 'events', '--cursor', 'c', '--store', cursors], {env}))).toBe(lines(4, 6))
    expect(rows(source, 'SELECT * FROM cursor_positions')).toEqual([])
    expect(rows(cursors, 'SELECT cursor_name, source, topic, partition, position FROM cursor_positions')).toEqual([
      {cursor_name: 'c', source: `file:${source}`, topic: 'events', partition: 0, position: 6},
    ])
    // SPOOL_STORE names the same store; the cursor commands find it there.
    const listed = json(await run(['cursor', 'list', '--json'], {env: {...env, SPOOL_STORE: cursors}}))
    expect(listed).toMatchObject([{cursor: 'c', sources: [`file:${source}`], topics: ['events'], partitions: 1}])
  })

  it('a topic deleted and created again is read from --from, with a note, not from the old position', async () => {
    await run(['produce', 'events'], {env: t.env, input: lines(0, 5)})
    expect(out(await run(['consume', 'events', '--cursor', 'c'], {env: t.env}))).toBe(lines(0, 5))
    await run(['topic', 'delete', 'events', '--yes'], {env: t.env})
    await run(['produce', 'events'], {env: t.env, input: lines(100, 107)})
    const again = await run(['consume', 'events', '--cursor', 'c'], {env: t.env})
    expect(out(again)).toBe(lines(100, 107))
    expect(again.stderr).toMatch(/cursor 'c': topic 'events' was deleted and created again since the cursor last read it/)
    expect(out(await run(['consume', 'events', '--cursor', 'c'], {env: t.env}))).toBe('')
  })

  it('tail shows the last -n window once, then resumes after a restart without it', async () => {
    await run(['produce', 'clicks'], {env: t.env, input: lines(0, 20)})
    /** Runs a tail until it has printed `until`, then stops it with Ctrl-C; returns everything it printed. */
    const tailUntil = async (until: string, whilePrinting?: () => Promise<unknown>) => {
      const tail = start(['tail', 'clicks', '-n', '3', '--cursor', 'dash'], {env: t.env})
      let printed = ''
      tail.stdout!.on('data', (d: Buffer) => (printed += d.toString('utf8')))
      const closed = new Promise((resolve) => tail.on('close', resolve))
      for (let i = 0; i < 400 && !printed.includes('r19\n') && !printed.includes(until); i++) await new Promise((r) => setTimeout(r, 50))
      await whilePrinting?.()
      for (let i = 0; i < 400 && !printed.includes(until); i++) await new Promise((r) => setTimeout(r, 50))
      tail.kill('SIGINT')
      expect(await closed).toBe(0)
      return printed
    }
    expect(await tailUntil('r21\n', () => run(['produce', 'clicks'], {env: t.env, input: lines(20, 22)}))).toBe(lines(17, 22))
    await run(['produce', 'clicks'], {env: t.env, input: lines(22, 25)})
    expect(await tailUntil('r24\n')).toBe(lines(22, 25))
  })

  it('replay to stdout and into a topic continues where the last replay stopped', async () => {
    await run(['produce', 'capture'], {env: t.env, input: lines(0, 4)})
    expect(out(await run(['replay', 'capture', '--speed', 'max', '--cursor', 'r'], {env: t.env}))).toBe(lines(0, 4))
    await run(['produce', 'capture'], {env: t.env, input: lines(4, 6)})
    expect(out(await run(['replay', 'capture', '--speed', 'max', '--cursor', 'r'], {env: t.env}))).toBe(lines(4, 6))
    expect((await run(['replay', 'capture', '--speed', 'max', '--cursor', 'into', '--to', 'staging'], {env: t.env})).code).toBe(0)
    await run(['produce', 'capture'], {env: t.env, input: lines(6, 7)})
    expect((await run(['replay', 'capture', '--speed', 'max', '--cursor', 'into', '--to', 'staging'], {env: t.env})).code).toBe(0)
    expect(out(await run(['consume', 'staging'], {env: t.env}))).toBe(lines(0, 7))
  })

  it('pipe from another store keeps the cursor with the copy: exactly-once, resumable', async () => {
    const source = join(t.home, 'remote.db')
    await run(['topic', 'create', 'orders', '-p', '3', '-b', `file:${source}`], {env: t.env})
    await run(['produce', 'orders', '-K', ':', '-b', `file:${source}`], {env: t.env, input: Array.from({length: 300}, (_, i) => `k${i}:v${i}`).join('\n')})
    const first = await run(['pipe', `file:${source}/orders`, 'orders-copy', '--cursor', 'bridge'], {env: t.env})
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toContain(`copied 300 of 300 records from file:${source}/orders to orders-copy (exactly-once, cursor 'bridge' in ${t.store})`)
    await run(['produce', 'orders', '-K', ':', '-b', `file:${source}`], {env: t.env, input: 'k1:late\n'})
    const second = await run(['pipe', `file:${source}/orders`, 'orders-copy', '--cursor', 'bridge'], {env: t.env})
    expect(second.stderr).toMatch(/copied 1 of 1 records/)
    expect((await envelopes(['orders-copy'], t.env)).length).toBe(301)
    expect(rows(source, 'SELECT * FROM cursor_positions')).toEqual([])
  })

  it('pipe from another store copies every record exactly once through SIGKILLs mid-copy and reruns', async () => {
    const source = join(t.home, 'remote.db')
    const remote = {...t.env, SPOOL_BROKER: `file:${source}`}
    const keyed = (n: number, from: number) => Array.from({length: n}, (_, i) => `k${(from + i) % 31}:${from + i}`).join('\n') + '\n'
    await run(['topic', 'create', 'src', '-p', '2'], {env: remote})
    let total = 60_000
    await run(['produce', 'src', '-K', ':'], {env: remote, input: keyed(total, 0)})
    await run(['topic', 'create', 'dst', '-p', '2'], {env: t.env})
    const db = new Database(t.store, {readonly: true})
    const copied = db.prepare("SELECT COALESCE(SUM(p.next_offset), 0) AS n FROM partitions p JOIN topics t ON t.id = p.topic_id WHERE t.name = 'dst'")
    let killedMidCopy = 0
    let rounds = 0
    try {
      for (; killedMidCopy < 8 && rounds < 40; rounds++) {
        const already = (copied.get() as {n: number}).n
        const target = already + Math.floor(Math.random() * (total - already))
        const piper = start(['pipe', `file:${source}/src`, 'dst', '--cursor', 'eo', '-f'], {env: t.env})
        const closed = new Promise<NodeJS.Signals | null>((resolve) => piper.on('close', (_code, signal) => resolve(signal)))
        for (let i = 0; i < 5000 && (copied.get() as {n: number}).n < target; i++) await new Promise((r) => setTimeout(r, 1))
        piper.kill('SIGKILL')
        expect(await closed).toBe('SIGKILL')
        if ((copied.get() as {n: number}).n < total) killedMidCopy++
        await run(['produce', 'src', '-K', ':'], {env: remote, input: keyed(3000, total)})
        total += 3000
      }
    } finally {
      db.close()
    }
    expect((await run(['pipe', `file:${source}/src`, 'dst', '--cursor', 'eo'], {env: t.env})).code).toBe(0)
    const content = (e: Record<string, any>) => `${e.partition}/${e.offset} ${e.key}=${e.value} @${e.timestamp}`
    const original = (await envelopes(['src'], remote)).map(content).sort()
    const copy = (await envelopes(['dst'], t.env)).map(content).sort()
    expect(original).toHaveLength(total)
    expect(copy).toEqual(original)
    expect(killedMidCopy, `only ${killedMidCopy} of ${rounds} kills landed mid-copy`).toBeGreaterThanOrEqual(8)
  }, 300_000)

  it('refuses -g together with --cursor (usage error, nothing created)', async () => {
    const both = await run(['consume', 'events', '--cursor', 'c', '-g', 'g'], {env: t.env})
    expect(both.code).toBe(2)
    expect(both.stderr.trim().split('\n')).toHaveLength(1)
    expect(both.stderr).toMatch(/^spool: --cursor and -g\/--group both say where to resume/)
    for (const command of [['tail', 'events'], ['replay', 'events'], ['pipe', 'events', 'copy']])
      expect((await run([...command, '--cursor', 'c', '-g', 'g'], {env: t.env})).code).toBe(2)
  })
})

describe('spool cursor', () => {
  it('list, describe, reset (dry run, then --execute), delete, with --json', async () => {
    const empty = await run(['cursor', 'list'], {env: t.env})
    expect(empty.code).toBe(0)
    expect(out(empty)).toBe('')
    expect(empty.stderr).toMatch(/no cursors in/)
    await run(['topic', 'create', 'orders', '-p', '2'], {env: t.env})
    await run(['produce', 'orders', '-p', '0'], {env: t.env, input: lines(0, 6)})
    await run(['produce', 'orders', '-p', '1'], {env: t.env, input: lines(0, 4)})
    await run(['consume', 'orders', '--cursor', 'review', '-p', '0', '-c', '2'], {env: t.env})
    const source = `file:${t.store}`

    expect(json(await run(['cursor', 'list', '--json'], {env: t.env}))).toMatchObject([{cursor: 'review', sources: [source], topics: ['orders'], partitions: 1}])
    expect(out(await run(['cursor', 'list'], {env: t.env}))).toMatch(/^CURSOR +SOURCES +TOPICS +PARTITIONS +UPDATED\nreview +file:/)
    // Partition 1, never read by the cursor, counts from its start.
    expect(json(await run(['cursor', 'describe', 'review', '--json'], {env: t.env}))).toEqual([
      {source, topic: 'orders', partition: 0, position: 2, end: 6, lag: 4},
      {source, topic: 'orders', partition: 1, position: null, end: 4, lag: 4},
    ])
    expect(out(await run(['cursor', 'describe', 'review'], {env: t.env}))).toMatch(/POSITION +END +LAG\n.*orders +0 +2 +6 +4\n.*orders +1 +- +4 +4\n$/)

    const dry = await run(['cursor', 'reset', 'review', '--to', 'latest', '--json'], {env: t.env})
    expect(dry.code).toBe(0)
    expect(json(dry)).toEqual([
      {source, topic: 'orders', partition: 0, current: 2, target: 6, applied: false},
      {source, topic: 'orders', partition: 1, current: null, target: 4, applied: false},
    ])
    expect(dry.stderr).toMatch(/dry run, nothing changed; add --execute to apply/)
    expect(json(await run(['cursor', 'describe', 'review', '--json'], {env: t.env}))[0].position).toBe(2)

    const executed = await run(['cursor', 'reset', 'review', '--shift-by', '-3', '--execute'], {env: t.env})
    expect(executed.code).toBe(0)
    expect(out(executed)).toMatch(/CURRENT +NEW\n.*orders +0 +2 +0\n.*orders +1 +- +0\n$/)
    expect(executed.stderr).toMatch(/reset cursor 'review' on 2 partitions/)
    expect(out(await run(['consume', 'orders', '--cursor', 'review', '-p', '1'], {env: t.env}))).toBe(lines(0, 4))

    expect(json(await run(['cursor', 'delete', 'review', '--json'], {env: t.env}))).toEqual({deleted: 'review', partitions: 2})
    expect(json(await run(['cursor', 'list', '--json'], {env: t.env}))).toEqual([])
    // Deleted: the next read starts at --from again.
    expect(out(await run(['consume', 'orders', '--cursor', 'review', '-p', '0'], {env: t.env}))).toBe(lines(0, 6))
  })

  it('an unknown cursor is one line and exit 1; a reset without --to or --shift-by is a usage error', async () => {
    for (const command of [['describe', 'nope'], ['delete', 'nope'], ['reset', 'nope', '--to', 'earliest']]) {
      const result = await run(['cursor', ...command], {env: t.env})
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^spool: cursor 'nope' has no positions in .*\(see the cursors with: spool cursor list\)\n$/)
    }
    await run(['produce', 'orders'], {env: t.env, input: 'a\n'})
    await run(['consume', 'orders', '--cursor', 'c'], {env: t.env})
    const neither = await run(['cursor', 'reset', 'c'], {env: t.env})
    expect(neither.code).toBe(2)
    expect(neither.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('a store written before cursors (schema v2) lists none, then takes one', async () => {
    copyFileSync(join(ROOT, 'test', 'fixtures', 'store-v2', 'spool.db'), t.store)
    expect(json(await run(['cursor', 'list', '--json'], {env: t.env}))).toEqual([])
    const first = await run(['consume', 'plain', '--cursor', 'c', '-c', '1'], {env: t.env})
    expect(first.code, first.stderr).toBe(0)
    expect(json(await run(['cursor', 'describe', 'c', '--json'], {env: t.env}))[0]).toMatchObject({topic: 'plain', position: 1})
  })
})
