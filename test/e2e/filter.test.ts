import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, start, tempHome, waitForOutput} from '../helpers/cli.js'

// --filter on consume, tail and replay (pipe's expression language), and tail -c.

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const spool = (args: string[], input?: string) => run(args, {env: t.env, input})
const lines = (text: Buffer | string) => text.toString().split('\n').filter(Boolean)
const numbered = (n: number) => Array.from({length: n}, (_, i) => JSON.stringify({n: i, kind: i % 3 === 0 ? 'big' : 'small'})).join('\n') + '\n'

describe('consume --filter', () => {
  it('keeps records for which the expression is truthy; -c counts only those', async () => {
    await spool(['produce', 'orders'], numbered(30))
    const all = await spool(['consume', 'orders', '--filter', 'r.json.kind === "big"'])
    expect(all.code).toBe(0)
    expect(lines(all.stdout).map((l) => JSON.parse(l).n)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27])
    const first = await spool(['consume', 'orders', '--filter', 'r.json.kind === "big"', '-c', '3', '--format', '%o %v\\n'])
    expect(first.code).toBe(0)
    expect(lines(first.stdout)).toEqual(['0 {"n":0,"kind":"big"}', '3 {"n":3,"kind":"big"}', '6 {"n":6,"kind":"big"}'])
  })

  it('sees key, headers, offset and partition as pipe --filter does, and --json prints what passes', async () => {
    await spool(['topic', 'create', 'keyed', '-p', '2'])
    await spool(['produce', 'keyed', '-K', ':', '-H', 'env=prod'], 'a:1\nb:2\na:3\nc:4\n')
    const out = await spool(['consume', 'keyed', '--json', '--filter', 'r.key === "a" && r.headers[0].value === "prod" && r.partition >= 0 && r.offset >= 0 && r.topic === "keyed"'])
    expect(out.code).toBe(0)
    expect(lines(out.stdout).map((l) => JSON.parse(l).value)).toEqual(['1', '3'])
  })

  it('an expression that does not parse: one line naming it, exit 2, before anything is opened', async () => {
    const bad = await spool(['consume', 'nowhere', '--filter', 'r.json.n >'])
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    // The parenthesis around the expression is spool's: the message does not name it.
    expect(bad.stderr).toBe("spool: --filter 'r.json.n >' is not a valid JavaScript expression: it ends before it is complete (e.g. --filter 'r.json?.amount > 100')\n")
    expect(bad.stdout.length).toBe(0)
    expect(existsSync(t.store)).toBe(false)
  })

  it('an expression may end with a // comment', async () => {
    await spool(['produce', 'commented'], '{"n":1}\n{"n":2}\n')
    const kept = await spool(['consume', 'commented', '--filter', 'r.json.n > 1 // the later ones'])
    expect(kept.code, kept.stderr).toBe(0)
    expect(kept.stdout.toString()).toBe('{"n":2}\n')
  })

  it('an expression that throws on a record: the records before it are printed, then one line naming the record, exit 1', async () => {
    await spool(['produce', 'mixed'], '{"a":{"b":1}}\n{"a":{"b":2}}\n{"x":1}\n{"a":{"b":4}}\n')
    const out = await spool(['consume', 'mixed', '--filter', 'r.json.a.b > 1'])
    expect(out.code).toBe(1)
    expect(lines(out.stdout)).toEqual(['{"a":{"b":2}}'])
    expect(out.stderr).toBe("spool: --filter 'r.json.a.b > 1' failed on mixed/0@2: Cannot read properties of undefined (reading 'b')\n")
  })

  it('replay and consume --merge: a filter that throws leaves the records before it written and committed with -g', async () => {
    await spool(['produce', 'mixed'], '{"a":{"b":1}}\n{"a":{"b":2}}\n{"x":1}\n{"a":{"b":4}}\n')
    for (const [group, read] of [
      ['replayer', ['replay', 'mixed', '-s', 'max']],
      ['merger', ['consume', 'mixed', '--merge']],
    ] as const) {
      const out = await spool([...read, '-g', group, '--filter', 'r.json.a.b > 1'])
      expect({code: out.code, stdout: lines(out.stdout)}).toEqual({code: 1, stdout: ['{"a":{"b":2}}']})
      expect(out.stderr.toString()).toContain('failed on mixed/0@2')
      // The group is past the two records before the failure, so a rerun with a fixed filter starts at it.
      const rerun = await spool([...read, '-g', group, '--filter', 'true'])
      expect(lines(rerun.stdout)).toEqual(['{"x":1}', '{"a":{"b":4}}'])
    }
  })

  it('with -g the group commits past records the filter dropped', async () => {
    await spool(['produce', 'events'], numbered(12))
    const first = await spool(['consume', 'events', '-g', 'audit', '--filter', 'r.json.n === 4'])
    expect(lines(first.stdout)).toEqual(['{"n":4,"kind":"small"}'])
    const described = JSON.parse((await spool(['group', 'describe', 'audit', '--json'])).stdout.toString())
    expect(JSON.stringify(described)).toContain('"lag":0')
    const again = await spool(['consume', 'events', '-g', 'audit', '--filter', 'true'])
    expect(again.stdout.length).toBe(0)
  })

  it('with --decode the expression sees the decoded value, and --json keeps it decoded', async () => {
    const schema = join(t.home, 'order.avsc')
    writeFileSync(schema, JSON.stringify({type: 'record', name: 'Order', fields: [{name: 'id', type: 'long'}, {name: 'status', type: 'string'}]}))
    await spool(['produce', 'orders', '--value-schema', schema], '{"id":1,"status":"NEW"}\n{"id":2,"status":"FAILED"}\n{"id":3,"status":"NEW"}\n')
    const out = await spool(['consume', 'orders', '--decode', '--json', '--filter', 'r.json.status === "FAILED"'])
    expect(out.code).toBe(0)
    const envelopes = lines(out.stdout).map((l) => JSON.parse(l))
    expect(envelopes.map((e) => [e.offset, e.value])).toEqual([[1, {id: 2, status: 'FAILED'}]])
    expect(envelopes[0].value_schema).toEqual({id: 1, type: 'AVRO'})
    const tail = await spool(['tail', 'orders', '-n', '1', '-c', '0', '--decode', '--filter', 'r.json.status === "FAILED"'])
    expect(lines(tail.stdout)).toEqual(['{"id":2,"status":"FAILED"}'])
    const counted = await spool(['count', 'orders', '--decode', '--filter', 'r.json.status === "NEW"'])
    expect({code: counted.code, stdout: counted.stdout.toString()}).toEqual({code: 0, stdout: '2\n'})
    // Without --decode the values are Avro bytes, not JSON: the same filter sees no status.
    const raw = await spool(['count', 'orders', '--filter', 'r.json?.status === "NEW"'])
    expect(raw.stdout.toString()).toBe('0\n')
  })
})

describe('tail -c and tail --filter', () => {
  it('-n shows the newest records that pass, even far back (like grep | tail -n)', async () => {
    await spool(['produce', 'logs'], Array.from({length: 500}, (_, i) => (i % 97 === 5 ? `ERROR ${i}` : `ok ${i}`)).join('\n') + '\n')
    const out = await spool(['tail', 'logs', '-n', '3', '-c', '0', '--filter', 'r.value.startsWith("ERROR")'])
    expect(out.code).toBe(0)
    // Errors at 5, 102, 199, 296, 393, 490: the newest three lie over 200 records back from the end.
    expect(lines(out.stdout)).toEqual(['ERROR 296', 'ERROR 393', 'ERROR 490'])
  })

  it('-c N exits 0 after N new records that pass, written by another process', async () => {
    await spool(['produce', 'live'], 'old-hit\nold-1\nold-2\n')
    const tail = start(['tail', 'live', '-n', '1', '-c', '2', '--filter', 'r.value.includes("hit")'], {env: t.env})
    const out: Buffer[] = []
    tail.stdout!.on('data', (d: Buffer) => out.push(d))
    const closed = new Promise<number | null>((resolve) => tail.on('close', (code) => resolve(code)))
    // The window (the newest passing record) is printed once the place to follow from is fixed.
    await waitForOutput(tail.stdout!, (s) => s.includes('old-hit\n'))
    await spool(['produce', 'live'], 'miss-1\nhit-1\nmiss-2\n')
    await spool(['produce', 'live'], 'hit-2\nhit-3\nhit-4\n')
    expect(await closed).toBe(0)
    expect(lines(Buffer.concat(out))).toEqual(['old-hit', 'hit-1', 'hit-2'])
  })

  it('-c N without a filter counts new records only, not the -n window', async () => {
    await spool(['produce', 'feed'], 'a\nb\nc\n')
    const tail = start(['tail', 'feed', '-n', '2', '-c', '1'], {env: t.env})
    const seen = await waitForOutput(tail.stdout!, (s) => s.includes('c\n'))
    expect(seen).toBe('b\nc\n')
    const closed = new Promise<number | null>((resolve) => tail.on('close', (code) => resolve(code)))
    await spool(['produce', 'feed'], 'd\ne\n')
    expect(await closed).toBe(0)
  })
})

describe('replay --filter', () => {
  it('replays only the records that pass, in order', async () => {
    await spool(['produce', 'clicks'], numbered(20))
    const out = await spool(['replay', 'clicks', '--rate', '1000/s', '--filter', 'r.json.n % 5 === 0'])
    expect(out.code).toBe(0)
    expect(lines(out.stdout).map((l) => JSON.parse(l).n)).toEqual([0, 5, 10, 15])
  })

  it('into a topic, with the group committed past dropped records', async () => {
    await spool(['produce', 'clicks'], numbered(10))
    const out = await spool(['replay', 'clicks', '--speed', 'max', '--to', 'copy', '-g', 'r', '--filter', 'r.json.kind === "big"'])
    expect(out.code).toBe(0)
    expect(lines((await spool(['consume', 'copy'])).stdout).map((l) => JSON.parse(l).n)).toEqual([0, 3, 6, 9])
    const again = await spool(['replay', 'clicks', '--speed', 'max', '--to', 'copy', '-g', 'r', '--filter', 'true'])
    expect(again.stderr).toContain('replayed 0 records')
  })
})
