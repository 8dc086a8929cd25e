import {copyFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ROOT, run, tempHome} from '../helpers/cli.js'

// A store written by spool 0.1 (store schema v2, commit 3ac6c39) and what that spool printed of it.
// Later spools must open such a file and read every record back exactly.
const FIXTURE = join(ROOT, 'test', 'fixtures', 'store-v2')

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
  copyFileSync(join(FIXTURE, 'spool.db'), t.store)
})
afterEach(() => t.cleanup())

describe('a store written by spool 0.1 (schema v2)', () => {
  it('reads every record back exactly', async () => {
    const expected = readFileSync(join(FIXTURE, 'records.jsonl'), 'utf8')
    let actual = ''
    for (const topic of ['plain', 'keyed', 'mixed']) {
      const result = await run(['consume', topic, '--json'], {env: t.env})
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      actual += result.stdout.toString('utf8')
    }
    expect(actual.split('\n')).toEqual(expected.split('\n'))
    expect(actual.split('\n').filter(Boolean)).toHaveLength(2611)
  })

  it('keeps its groups and topic settings', async () => {
    const group = await run(['group', 'describe', 'readers', '--json'], {env: t.env})
    expect(group.code).toBe(0)
    expect(JSON.parse(group.stdout.toString())).toEqual(JSON.parse(readFileSync(join(FIXTURE, 'group-readers.json'), 'utf8')))
    const topic = await run(['topic', 'describe', 'keyed', '--json'], {env: t.env})
    expect(topic.code).toBe(0)
    expect(JSON.parse(topic.stdout.toString())).toMatchObject({partitions: 3, records: 5, retention_ms: 3650 * 86_400_000})
  })

  it('reads by --key before and after it is migrated: its batches, written before the key index, are read whole', async () => {
    const parse = (text: Buffer | string) => text.toString().split('\n').filter(Boolean).map((line) => JSON.parse(line))
    const expected = parse(readFileSync(join(FIXTURE, 'records.jsonl'), 'utf8')).filter((r) => r.topic === 'keyed' && r.key === 'a')
    expect(expected).toHaveLength(2)
    const before = await run(['consume', 'keyed', '--key', 'a', '--json'], {env: t.env})
    expect(before).toMatchObject({code: 0, stderr: ''})
    expect(parse(before.stdout)).toEqual(expected)
    // A write migrates the store (to the key index's version); the new batch is indexed, the old ones are not.
    expect((await run(['produce', 'keyed', '-K', ':'], {env: t.env, input: 'a:new\nb:other\n'})).code).toBe(0)
    const all = parse((await run(['consume', 'keyed', '--json'], {env: t.env})).stdout)
    const after = await run(['consume', 'keyed', '--key', 'a', '--json'], {env: t.env})
    expect(parse(after.stdout)).toEqual(all.filter((r) => r.key === 'a'))
    expect(parse(after.stdout).map((r) => r.value)).toEqual(['1', '4', 'new'])
  })

  it('takes new records after the old ones', async () => {
    const produce = await run(['produce', 'plain'], {env: t.env, input: 'new\n'})
    expect(produce.code).toBe(0)
    const tail = await run(['consume', 'plain', '--from', '-2'], {env: t.env})
    expect(tail.stdout.toString()).toBe('x\nnew\n')
  })

  it('reads its batches (values back to back) and new ones (a newline after each value, store version 9) alike', async () => {
    const old = readFileSync(join(FIXTURE, 'records.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((r) => r.topic === 'plain').map((r) => r.value as string)
    const added = ['new', '', 'a,b', 'last']
    expect((await run(['produce', 'plain'], {env: t.env, input: added.map((line) => `${line}\n`).join('')})).code).toBe(0)
    const all = [...old, ...added]
    const plain = await run(['consume', 'plain'], {env: t.env})
    expect(plain).toMatchObject({code: 0, stderr: ''})
    expect(plain.stdout.toString()).toBe(all.map((v) => `${v}\n`).join(''))
    // Another delimiter, and a window from inside the old batches to inside the new one.
    const window = await run(['consume', 'plain', '-D', ';', '--from', String(old.length - 3), '-c', '5'], {env: t.env})
    expect(window.stdout.toString()).toBe(all.slice(old.length - 3, old.length + 2).map((v) => `${v};`).join(''))
    const json = await run(['consume', 'plain', '--json', '--from', '-5'], {env: t.env})
    expect(json.stdout.toString().trimEnd().split('\n').map((line) => JSON.parse(line).value)).toEqual(all.slice(-5))
    expect((await run(['check'], {env: t.env})).code).toBe(0)
  })
})
