import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {envelopes, run, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const seq = (n: number) => Array.from({length: n}, (_, i) => `${i + 1}\n`).join('')
const json = async (args: string[]) => {
  const result = await run(args, {env: t.env})
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout.toString())
}

describe('topic commands', () => {
  it('create, list, describe and delete', async () => {
    const created = await run(['topic', 'create', 'clicks', '--partitions', '3', '--retention', '7d'], {env: t.env})
    expect(created.code).toBe(0)
    expect(created.stderr).toBe("spool: created topic 'clicks' (3 partitions)\n")
    await run(['produce', 'clicks', '-p', '1'], {env: t.env, input: 'a\nb\n'})
    expect(await json(['topic', 'list', '--json'])).toEqual([
      {name: 'clicks', partitions: 3, records: 2, bytes: expect.any(Number), retention_ms: 604_800_000, retention_bytes: null, replication_factor: 1},
    ])
    const detail = await json(['topic', 'describe', 'clicks', '--json'])
    expect(detail.partition_info.map((p: any) => [p.partition, p.start_offset, p.end_offset, p.records])).toEqual([
      [0, 0, 0, 0],
      [1, 0, 2, 2],
      [2, 0, 0, 0],
    ])
    const table = await run(['topic', 'list'], {env: t.env})
    expect(table.stdout.toString()).toMatch(/^TOPIC\s+PARTITIONS\s+RECORDS\s+SIZE\s+RETENTION\nclicks\s+3\s+2\s+\S+ \S+\s+7d\n$/)
    const human = await run(['topic', 'describe', 'clicks'], {env: t.env})
    expect(human.stdout.toString()).toMatch(/Partitions: 3/)

    const refused = await run(['topic', 'delete', 'clicks'], {env: t.env})
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe("spool: refusing to delete topic 'clicks' without confirmation (pass --yes)\n")
    const deleted = await run(['topic', 'delete', 'clicks', '--yes'], {env: t.env})
    expect(deleted.code).toBe(0)
    expect(await json(['topic', 'list', '--json'])).toEqual([])
  })

  it('refuses to create a topic twice', async () => {
    await run(['topic', 'create', 'once'], {env: t.env})
    const again = await run(['topic', 'create', 'once'], {env: t.env})
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^spool: topic 'once' already exists/)
  })

  it('enforces retention by time without a daemon: expired batches go on the next append', async () => {
    await run(['topic', 'create', 'short', '--retention', '1h'], {env: t.env})
    const old = Date.now() - 2 * 3_600_000
    await run(['produce', 'short', '--input', 'json'], {env: t.env, input: `{"value":"old-1","timestamp":${old}}\n{"value":"old-2","timestamp":${old + 1}}\n`})
    await run(['produce', 'short'], {env: t.env, input: 'fresh\n'})
    expect((await envelopes(['short'], t.env)).map((e) => [e.offset, e.value])).toEqual([[2, 'fresh']])
  })

  it('enforces retention by time on read too, when nothing is appended', async () => {
    await run(['topic', 'create', 'idle', '--retention', '1h'], {env: t.env})
    const old = Date.now() - 2 * 3_600_000
    await run(['produce', 'idle', '--input', 'json'], {env: t.env, input: `{"value":"old","timestamp":${old}}\n`})
    expect(await envelopes(['idle'], t.env)).toEqual([])
    const detail = await json(['topic', 'describe', 'idle', '--json'])
    expect(detail.partition_info[0]).toMatchObject({start_offset: 1, end_offset: 1, records: 0})
  })

  it('enforces retention by bytes, deleting the oldest batches first', async () => {
    await run(['topic', 'create', 'capped', '--retention-bytes', '1000'], {env: t.env})
    for (let batch = 1; batch <= 5; batch++) await run(['produce', 'capped'], {env: t.env, input: `b${batch}-${'x'.repeat(45)}\n`.repeat(10)})
    const records = await envelopes(['capped'], t.env)
    const batches = [...new Set(records.map((e) => e.value.slice(0, 2)))]
    // Oldest first, a prefix: what is left is the newest batches, whole.
    expect(batches).toEqual(['b4', 'b5'])
    expect(records.map((e) => e.offset)).toEqual(Array.from({length: 20}, (_, i) => 30 + i))
  })
})

describe('bad input', () => {
  it('an invalid topic name is a usage error', async () => {
    for (const name of ['bad name', 'a/b', '..', 'x'.repeat(250)]) {
      const result = await run(['produce', name], {env: t.env, input: 'x\n'})
      expect(result.code).toBe(2)
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
      expect(result.stderr).toMatch(/^spool: topic name/)
    }
    expect(readdirOrEmpty(t.home)).not.toContain('bad name')
  })

  it('an unknown topic on consume says how to create it', async () => {
    const result = await run(['consume', 'nope'], {env: t.env})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^spool: topic 'nope' does not exist in .*spool\.db \(create it with: spool topic create nope\)\n$/)
  })

  it('a malformed JSON line stops the produce there, names the line, and keeps the records before it', async () => {
    const input = '{"value":"a"}\n{"value":"b"}\n{"value":\n{"value":"d"}\n'
    const result = await run(['produce', 'j', '--input', 'json'], {env: t.env, input})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/spool: line 3: not valid JSON \(.*\); stored the 2 records before it\n$/)
    expect((await envelopes(['j'], t.env)).map((e) => e.value)).toEqual(['a', 'b'])
  })

  it('a position that does not parse is a usage error naming the grammar', async () => {
    await run(['produce', 'p'], {env: t.env, input: 'x\n'})
    const result = await run(['consume', 'p', '--from', 'soon'], {env: t.env})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^spool: --from 'soon' is not a position \(use earliest, latest/)
    expect(result.stdout.length).toBe(0)
  })

  it('a record over the size limit is refused whole; the records before it stay', async () => {
    const big = 'a'.repeat(1024 * 1024 + 1)
    const result = await run(['produce', 'big'], {env: t.env, input: `small\n${big}\nafter\n`})
    expect(result.code).toBe(1)
    // The record's whole size, not the bytes read when the limit was passed.
    expect(result.stderr).toMatch(/record 2 is 1048577 bytes, over the limit of 1048576 \(1\.0 MiB\); raise it with --max-record-size; stored the 1 record before it\n$/)
    expect((await envelopes(['big'], t.env)).map((e) => e.value)).toEqual(['small'])

    const limited = await run(['produce', 'lim', '--max-record-size', '10'], {env: t.env, input: '0123456789\nabcdefghijk\n'})
    expect(limited.code).toBe(1)
    expect(limited.stderr).toMatch(/record 2 is 11 bytes, over the limit of 10/)
    const raised = await run(['produce', 'raised', '--max-record-size', '2MiB'], {env: t.env, input: `${big}\n`})
    expect(raised.code).toBe(0)
    expect((await run(['consume', 'raised'], {env: t.env})).stdout.length).toBe(big.length + 1)
  })

  it.each([
    [['consume', ''], 'topic name is empty'],
    [['consume', 't', '-p', '2-1'], "--partition '2-1' is an empty range"],
    [['consume', 't', '--from', '8', '--until', '5'], '--from is after --until'],
    [['consume', 't', '--from', '-2', '--until', '-5'], '--from is after --until'],
    [['topic', 'delete', '../x', '--yes'], 'topic name "../x" contains characters other than'],
    [['topic', 'delete', '..', '--yes'], 'topic name cannot be'],
    [['topic', 'create', 'r', '--retention', '99999999999999999999d'], "--retention '99999999999999999999d' is too long"],
    [['produce', 't', '-K', ''], '--key-delimiter is empty (give at least one byte, e.g. -K ":" or -K "|")'],
  ])('%j is a usage error (exit 2) in one line', async (args, message) => {
    await run(['produce', 't'], {env: t.env, input: seq(10)})
    const result = await run(args, {env: t.env, input: 'x\n'})
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    expect(result.stderr).toContain(message)
    expect(result.code).toBe(2)
  })

  it('--from -0 is a position (nothing before the end), not -0 for NUL; a topic named twice is read once', async () => {
    await run(['produce', 't'], {env: t.env, input: seq(3)})
    const none = await run(['consume', 't', '--from', '-0'], {env: t.env})
    expect({code: none.code, out: none.stdout.toString(), err: none.stderr}).toEqual({code: 0, out: '', err: ''})
    expect((await run(['consume', 't', '--from', '-1', '-0'], {env: t.env})).stdout.toString()).toBe('3\0')
    expect((await run(['consume', 't', 't'], {env: t.env})).stdout.toString()).toBe('1\n2\n3\n')
  })

  it('deleting a topic or group that is not there creates no store and says how to see what is', async () => {
    const topic = await run(['topic', 'delete', 'nope', '--yes'], {env: t.env})
    expect(topic.code).toBe(1)
    expect(topic.stderr).toBe(`spool: topic 'nope' does not exist in ${t.store} (see the topics with: spool topic list)\n`)
    const group = await run(['group', 'delete', 'nope'], {env: t.env})
    expect(group.code).toBe(1)
    expect(existsSync(t.store)).toBe(false)
  })

  it('a file that is not a spool store is refused and left byte-identical', async () => {
    const text = join(t.home, 'notes.txt')
    writeFileSync(text, 'hello, not a database\n')
    const foreign = join(t.home, 'other.db')
    const db = new Database(foreign)
    db.exec('create table people(name text); insert into people values (\'ada\')')
    db.close()
    for (const file of [text, foreign]) {
      const before = readFileSync(file)
      for (const args of [['produce', 'x'], ['consume', 'x'], ['topic', 'list']]) {
        const result = await run([...args, '-b', `file:${file}`], {env: t.env, input: 'data\n'})
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/is (not a spool store \(not an SQLite database\)|an SQLite database that spool did not create)/)
        expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
      }
      expect(readFileSync(file).equals(before)).toBe(true)
    }
    expect(readdirOrEmpty(t.home).filter((f) => f.includes('-wal') || f.includes('-journal'))).toEqual([])
  })
})

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
