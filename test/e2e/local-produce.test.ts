import {spawnSync} from 'node:child_process'
import {existsSync, openSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {partitionForKey} from '../../src/core/partitioner.js'
import {BIN, envelopes, run, start, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const values = async (topic: string, extra: string[] = []) => (await envelopes([topic], t.env, extra)).map((e) => e.value)

describe('produce', () => {
  it('stores N lines as exactly N records, in order, none split or merged, on a large input', async () => {
    const lines = Array.from({length: 200_000}, (_, i) => `${i}:${'x'.repeat((i * 7919) % 180)}`)
    const input = lines.join('\n') + '\n'
    const produced = await run(['produce', 'big'], {env: t.env, input})
    expect(produced.code).toBe(0)
    const consumed = await run(['consume', 'big'], {env: t.env})
    expect(consumed.stdout.toString()).toBe(input)
    const offsets = await run(['consume', 'big', '--format', '%o\\n', '--from', '-3'], {env: t.env})
    expect(offsets.stdout.toString()).toBe('199997\n199998\n199999\n')
  })

  it('makes a record of a final line without a newline, and of empty lines', async () => {
    await run(['produce', 'tail'], {env: t.env, input: 'a\n\nb\nlast'})
    expect(await values('tail')).toEqual(['a', '', 'b', 'last'])
  })

  it('splits on -D and on -0, and keeps newlines inside such records', async () => {
    await run(['produce', 'pipes', '-D', '|'], {env: t.env, input: 'one|two\nlines|three'})
    expect(await values('pipes')).toEqual(['one', 'two\nlines', 'three'])
    await run(['produce', 'nul', '-0'], {env: t.env, input: 'x\ny\0z\0'})
    expect(await values('nul')).toEqual(['x\ny', 'z'])
    const printed = await run(['consume', 'nul', '-0'], {env: t.env})
    expect(printed.stdout.toString()).toBe('x\ny\0z\0')
  })

  it('is binary-safe: all 256 byte values survive produce and consume', async () => {
    const bytes = Buffer.from(Array.from({length: 256}, (_, i) => i).filter((b) => b !== 0x0a))
    const input = Buffer.concat([bytes, Buffer.from('\n'), bytes.reverse(), Buffer.from('\n')])
    await run(['produce', 'bin'], {env: t.env, input})
    const out = await run(['consume', 'bin'], {env: t.env})
    expect(out.stdout.equals(input)).toBe(true)
  })

  it('splits keys with -K, keeps lines without the delimiter keyless, and sends a key to its murmur2 partition', async () => {
    await run(['topic', 'create', 'clicks', '--partitions', '3'], {env: t.env})
    const keys = Array.from({length: 60}, (_, i) => `user-${i}`)
    const input = keys.map((k, i) => `${k}:v${i}:x`).join('\n') + '\nno-key-here\n'
    const produced = await run(['produce', 'clicks', '-K', ':'], {env: t.env, input})
    expect(produced.code).toBe(0)
    const records = await envelopes(['clicks'], t.env)
    expect(records).toHaveLength(61)
    for (const [i, key] of keys.entries()) {
      const record = records.find((r) => r.key === key)!
      expect(record.value).toBe(`v${i}:x`)
      expect(record.partition).toBe(partitionForKey(Buffer.from(key), 3))
    }
    expect(records.find((r) => r.value === 'no-key-here')!.key).toBeNull()
    // Order is kept within each partition.
    for (const p of [0, 1, 2]) {
      const inPartition = records.filter((r) => r.partition === p && r.key)
      expect(inPartition.map((r) => r.offset)).toEqual([...inPartition.map((r) => r.offset)].sort((a, b) => a - b))
      expect(inPartition.map((r) => Number(r.value.split(':')[0].slice(1)))).toEqual(
        [...inPartition.map((r) => Number(r.value.split(':')[0].slice(1)))].sort((a, b) => a - b),
      )
    }
  })

  it('sets a fixed key with -k, headers with repeated -H (order and duplicates kept), and a partition with -p', async () => {
    await run(['topic', 'create', 'h', '--partitions', '4'], {env: t.env})
    const produced = await run(['produce', 'h', '-k', 'fixed', '-H', 'trace=1', '-H', 'trace=2', '-H', 'empty=', '-p', '3'], {env: t.env, input: 'a\nb\n'})
    expect(produced.code).toBe(0)
    const records = await envelopes(['h'], t.env)
    expect(records).toHaveLength(2)
    for (const record of records) {
      expect(record.key).toBe('fixed')
      expect(record.partition).toBe(3)
      expect(record.headers).toEqual([
        {key: 'trace', value: '1'},
        {key: 'trace', value: '2'},
        {key: 'empty', value: ''},
      ])
    }
  })

  it('refuses -p past the partitions of an existing topic', async () => {
    await run(['topic', 'create', 'two', '--partitions', '2'], {env: t.env})
    const produced = await run(['produce', 'two', '-p', '2'], {env: t.env, input: 'x\n'})
    expect(produced.code).toBe(2)
    expect(produced.stderr).toBe("spool: topic 'two' has 2 partitions; there is no partition 2 (partitions are numbered from 0)\n")
  })

  it('a topic deleted while produce writes to it ends the produce (exit 1, one line); it is not created again with the defaults', async () => {
    await run(['topic', 'create', 'doomed', '--retention', '1d'], {env: t.env})
    const producer = start(['produce', 'doomed'], {env: t.env})
    let stderr = ''
    producer.stderr!.on('data', (d: Buffer) => (stderr += d))
    const closed = new Promise<number | null>((resolve) => producer.on('close', (code) => resolve(code)))
    producer.stdin!.write('1\n2\n')
    for (let i = 0; i < 200; i++) {
      const seen = await run(['count', 'doomed'], {env: t.env})
      if (seen.stdout.toString() === '2\n') break
      await new Promise((r) => setTimeout(r, 25))
    }
    expect((await run(['topic', 'delete', 'doomed', '--yes'], {env: t.env})).code).toBe(0)
    producer.stdin!.end('3\n4\n')
    expect(await closed).toBe(1)
    expect(stderr).toBe("spool: topic 'doomed' was deleted while produce wrote to it; 2 records were stored before the failure\n")
    expect((await run(['topic', 'list', '--json'], {env: t.env})).stdout.toString()).not.toContain('doomed')
  })

  it('--input json skips blank lines and a byte order mark; a bad line is still named by its number in the input', async () => {
    const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"value":"a"}\n\n{"value":"b"}\n \t\r\n')])
    const produced = await run(['produce', 'jl', '--input', 'json'], {env: t.env, input})
    expect(produced.code, produced.stderr).toBe(0)
    expect((await run(['consume', 'jl'], {env: t.env})).stdout.toString()).toBe('a\nb\n')
    const bad = await run(['produce', 'jl', '--input', 'json'], {env: t.env, input: '\n{"value":"c"}\n\nnot json\n'})
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^spool: line 4: not valid JSON .*; stored the 1 record before it\n$/)
  })

  it('refuses -p past the partitions a new topic would get, and creates nothing', async () => {
    const produced = await run(['produce', 'fresh', '-p', '3'], {env: t.env, input: 'x\n'})
    expect(produced.code).toBe(2)
    expect(produced.stderr).toBe(
      "spool: topic 'fresh' does not exist and would be created with 1 partition; there is no partition 3 (-p pins one partition; --partitions N sets how many the new topic gets)\n",
    )
    expect((await run(['topic', 'list'], {env: t.env})).stdout).not.toContain('fresh')
  })

  it('reads --input json envelopes: timestamps, partitions, base64 and null kept', async () => {
    const lines = [
      '{"key":"k","value":"v","timestamp":1700000000123,"partition":1,"headers":[{"key":"a","value":"1"},{"key":"a","value":null}]}',
      '{"key":null,"value":"/wA=","value_encoding":"base64","timestamp":"2024-01-01T00:00:00Z"}',
      '{"value":null}',
    ]
    const produced = await run(['produce', 'env', '--input', 'json', '--partitions', '2'], {env: t.env, input: lines.join('\n')})
    expect(produced.code).toBe(0)
    const records = await envelopes(['env'], t.env)
    const byValue = (v: unknown) => records.find((r) => r.value === v)!
    expect(byValue('v')).toMatchObject({partition: 1, timestamp: 1700000000123, key: 'k', headers: [{key: 'a', value: '1'}, {key: 'a', value: null}]})
    expect(byValue('/wA=')).toMatchObject({value_encoding: 'base64', timestamp: Date.parse('2024-01-01T00:00:00Z'), key: null})
    expect(records.filter((r) => r.value === null)).toHaveLength(1)
    const raw = await run(['consume', 'env', '--format', '%v'], {env: t.env})
    expect(raw.stdout.includes(Buffer.from([0xff, 0x00]))).toBe(true)
  })

  it('a bad field in any line stores every record before it and names the line (50,000 good lines first)', async () => {
    const good = Array.from({length: 50_000}, (_, i) => JSON.stringify({value: `v${i}`})).join('\n')
    const bad: Array<[string, RegExp]> = [
      ['{"value":"bad","partition":20000}', /line 50001: "partition" is 20000 but topic 'p\d' has 1 partition \(create it first with more: spool topic create p\d -p 20001\); stored the 50000 records before it/],
      ['{"value":"bad","partition":-1}', /line 50001: "partition" must be a whole number >= 0; stored the 50000 records before it/],
      ['{"value":"bad","timestamp":"2026-02-30"}', /line 50001: "timestamp" "2026-02-30" is not a time: .*; stored the 50000 records before it/],
      ['{"valu":"typo"}', /line 50001: the envelope has an unknown field "valu" .*; stored the 50000 records before it/],
      ['{"key":"k"}', /line 50001: the envelope has no "value" .*; stored the 50000 records before it/],
      ['{"value":5}', /line 50001: "value" must be a string or null; stored the 50000 records before it/],
    ]
    for (const [index, [line, message]] of bad.entries()) {
      const topic = `p${index}`
      const produced = await run(['produce', topic, '--input', 'json'], {env: t.env, input: `${good}\n${line}\n{"value":"after"}\n`})
      expect(produced.code, line).toBe(1)
      expect(produced.stderr, line).toMatch(message)
      const stored = await values(topic)
      expect(stored, line).toHaveLength(50_000)
      expect(stored.at(-1)).toBe('v49999')
    }
    // With one good line before it, that line is stored too.
    const one = await run(['produce', 'one', '--input', 'json'], {env: t.env, input: '{"value":"first"}\n{"value":"x","partition":3}\n'})
    expect(one.code).toBe(1)
    expect(await values('one')).toEqual(['first'])
  })

  it('a line naming a partition never grows a topic: a new topic gets --partitions or the default', async () => {
    const produced = await run(['produce', 'big', '--input', 'json'], {env: t.env, input: '{"value":"x","partition":9999}\n'})
    expect(produced.code).toBe(1)
    expect(produced.stderr).toMatch(/line 1: "partition" is 9999 but topic 'big' has 1 partition/)
    const described = await run(['topic', 'describe', 'big', '--json'], {env: t.env})
    expect(described.code).toBe(1)
    expect(described.stderr).toMatch(/topic 'big' does not exist/)
    const three = await run(['produce', 'three', '--input', 'json', '--partitions', '3'], {env: t.env, input: '{"value":"x","partition":2}\n'})
    expect(three.code).toBe(0)
    expect(three.stderr).toMatch(/created topic 'three' \(3 partitions\)/)
  })

  it('says on stderr that it created the topic, and nothing on stdout', async () => {
    const produced = await run(['produce', 'fresh', '--partitions', '2'], {env: t.env, input: 'x\n'})
    expect(produced.stdout.length).toBe(0)
    expect(produced.stderr).toMatch(/^spool: created topic 'fresh' \(2 partitions\) in .*spool\.db\n$/)
    const again = await run(['produce', 'fresh'], {env: t.env, input: 'y\n'})
    expect(again.stderr).toBe('')
  })

  it('refuses a directory on stdin (Node reads it as empty input) with a usage error, before creating anything', async () => {
    const refused = spawnSync(process.execPath, [BIN, 'produce', 'dir'], {env: t.env, stdio: [openSync(tmpdir(), 'r'), 'pipe', 'pipe'], encoding: 'utf8'})
    expect(refused.status).toBe(2)
    expect(refused.stderr).toBe('spool: stdin is a directory, not the input (give produce a file, as in spool produce T < FILE, or a pipe)\n')
    expect(existsSync(t.store)).toBe(false)
  })

  it('strips CR only with --crlf', async () => {
    await run(['produce', 'crlf', '--crlf'], {env: t.env, input: 'a\r\nb\r\n'})
    await run(['produce', 'raw'], {env: t.env, input: 'a\r\nb\r\n'})
    expect(await values('crlf')).toEqual(['a', 'b'])
    expect(await values('raw')).toEqual(['a\r', 'b\r'])
  })
})

describe('produce start-up', () => {
  // The checkpoint thread starts only once a produce has appended 4 MiB (checkpointer.ts).
  const reportsWorkerThreads = `data:text/javascript,process.on('exit', () => process.stderr.write('worker_threads ' + process.moduleLoadList.some((m) => m.includes('worker_threads')) + '\\n'))`

  it('a small produce does not load node:worker_threads; a large one starts its checkpoint thread', () => {
    const produce = (input: string) => spawnSync(process.execPath, ['--import', reportsWorkerThreads, BIN, 'produce', 'orders'], {env: t.env, input, encoding: 'utf8'})
    const small = produce('one\n')
    expect(small.status).toBe(0)
    expect(small.stderr).toContain('worker_threads false')
    const large = produce(`${'x'.repeat(99)}\n`.repeat(100_000))
    expect(large.status).toBe(0)
    expect(large.stderr).toContain('worker_threads true')
  })
})
