import {describe, expect, it} from 'vitest'
import {SpoolError, UsageError} from '../../src/core/errors.js'
import type {FeedRecord} from '../../src/core/record.js'
import {execTransform, expressionTransform, splitCommandLine} from '../../src/ops/transform.js'

const record = (value: string | null, fields: Partial<FeedRecord> = {}): FeedRecord => ({
  topic: 't',
  partition: 0,
  offset: 0,
  timestamp: 1000,
  key: null,
  value: value === null ? null : Buffer.from(value),
  headers: [],
  ...fields,
})
const values = (records: FeedRecord[]) => records.map((r) => r.value?.toString() ?? null)

describe('splitCommandLine', () => {
  it.each([
    ['jq -c .', ['jq', '-c', '.']],
    [`jq --unbuffered -c '.value |= ascii_downcase'`, ['jq', '--unbuffered', '-c', '.value |= ascii_downcase']],
    [`prog "a b" 'c "d"' e\\ f`, ['prog', 'a b', 'c "d"', 'e f']],
    [`prog "say \\"hi\\"" ''`, ['prog', 'say "hi"', '']],
    ['  spaced   out  ', ['spaced', 'out']],
    ['echo $HOME; rm -rf /', ['echo', '$HOME;', 'rm', '-rf', '/']],
  ])('%s', (text, words) => {
    expect(splitCommandLine(text)).toEqual(words)
  })
  it('refuses an unclosed quote and an empty command', () => {
    expect(() => splitCommandLine(`jq '.a`)).toThrow(UsageError)
    expect(() => splitCommandLine('   ')).toThrow('--exec is empty')
  })
})

describe('expressionTransform', () => {
  it('filters on the record, with r.json parsed lazily and undefined for non-JSON', async () => {
    const transform = expressionTransform('r.json?.n > 1 || r.value === "keep"', undefined)
    expect(values(await transform.apply([record('{"n":1}'), record('{"n":2}'), record('text'), record('keep'), record(null)]))).toEqual(['{"n":2}', 'keep'])
  })

  it('maps to a string, to fields, to JSON objects, or drops with null', async () => {
    expect(values(await expressionTransform(undefined, 'r.value + "!"').apply([record('a')]))).toEqual(['a!'])
    const [changed] = await expressionTransform(undefined, '({key: "k", value: {v: r.value}, headers: [{key: "h", value: "1"}], timestamp: 5})').apply([record('a')])
    expect(changed!.key!.toString()).toBe('k')
    expect(changed!.value!.toString()).toBe('{"v":"a"}')
    expect(changed!.headers).toEqual([{key: 'h', value: Buffer.from('1')}])
    expect(changed!.timestamp).toBe(5)
    expect(await expressionTransform(undefined, 'null').apply([record('a')])).toEqual([])
    const kept = await expressionTransform(undefined, '({})').apply([record('a', {key: Buffer.from('x')})])
    expect(kept[0]!.key!.toString()).toBe('x')
  })

  it('reports a bad expression as a usage error and a failing one with the record', async () => {
    expect(() => expressionTransform('r.value ===', undefined)).toThrow(UsageError)
    await expect(expressionTransform(undefined, 'r.nope.deeper').apply([record('a', {offset: 7})])).rejects.toThrow("--map 'r.nope.deeper' failed on t/0@7")
    await expect(expressionTransform(undefined, '[1]').apply([record('a')])).rejects.toThrow(/not an array/)
  })
})

describe('execTransform', () => {
  const node = (script: string) => `${process.execPath} -e "${script}"`

  it('feeds envelopes to a long-running program and takes one answer per record; null drops', async () => {
    const transform = execTransform(
      node(`require('readline').createInterface({input: process.stdin}).on('line', (l) => { const e = JSON.parse(l); console.log(e.value === 'drop' ? 'null' : JSON.stringify({value: e.value.toUpperCase()})) })`),
    )
    try {
      const out = await transform.apply([record('a', {key: Buffer.from('k')}), record('drop'), record('c')])
      expect(values(out)).toEqual(['A', 'C'])
      expect(out[0]!.key!.toString()).toBe('k')
      expect(values(await transform.apply([record('second batch')]))).toEqual(['SECOND BATCH'])
    } finally {
      await transform.close()
    }
  })

  it('fails with a clear message when the program cannot run or exits early', async () => {
    const missing = execTransform('/nonexistent/program')
    await new Promise((r) => setTimeout(r, 100))
    await expect(missing.apply([record('a')])).rejects.toThrow(SpoolError)
    await expect(missing.apply([record('a')])).rejects.toThrow(/cannot run '\/nonexistent\/program'/)
    const quitter = execTransform(node('process.exit(3)'))
    await expect(quitter.apply([record('a')])).rejects.toThrow(/exited \(code 3\)/)
  })
})
