import {afterEach, beforeEach, describe, expect, inject, it} from 'vitest'
import {run, tempHome} from '../helpers/cli.js'

// `spool diff` between the local store and a real Kafka broker: a copy made with pipe is equal in every
// mode, and one more record on either side makes it different.
const kafka = inject('kafka')
const plaintext = `kafka://${kafka.plaintext}`
let t: ReturnType<typeof tempHome>

beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const keyed = (n: number) => Array.from({length: n}, (_, i) => `k${i % 37}:v${i}`).join('\n') + '\n'

describe('spool diff against Kafka', () => {
  it('a local topic and its Kafka copy are equal; one more record makes them different; a missing Kafka topic is exit 2', async () => {
    const topic = `diff-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`
    const remote = `${plaintext}/${topic}`
    await run(['topic', 'create', 'orders', '--partitions', '3'], {env: t.env})
    const produced = await run(['produce', 'orders', '-K', ':', '-H', 'origin=test', '-H', 'origin=dup'], {env: t.env, input: keyed(2000)})
    expect(produced.code, produced.stderr).toBe(0)
    const piped = await run(['pipe', 'orders', remote], {env: t.env})
    expect(piped.code, piped.stderr).toBe(0)

    for (const by of ['offset', 'key', 'value']) {
      const result = await run(['diff', 'orders', remote, '--by', by], {env: t.env})
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.stdout.toString()).toMatch(new RegExp(`^equal \\(by ${by}\\): \\d+ equal, 0 only in A, 0 only in B, 0 changed\\n$`))
    }

    await run(['produce', 'orders', '-K', ':'], {env: t.env, input: 'k1:late\n'})
    const after = await run(['diff', 'orders', remote, '--json'], {env: t.env})
    expect(after.code).toBe(1)
    const document = JSON.parse(after.stdout.toString())
    expect(document).toMatchObject({same: false, summary: {equal: 2000, only_a: 1, only_b: 0, changed: 0}, a: {partitions: 3, records: 2001}, b: {partitions: 3, records: 2000}})
    expect(document.differences).toEqual([{kind: 'only-a', a: expect.objectContaining({key: 'k1', value: 'late'}), b: null}])
    const byKey = await run(['diff', remote, 'orders', '--by', 'key', '--fields', 'value'], {env: t.env})
    expect(byKey.code).toBe(1)
    expect(byKey.stdout.toString()).toMatch(/^~ key="k1" \(value\)\n< p\d@\d+ key="k1" value="v\d+"\n> p\d@\d+ key="k1" value="late"\ndifferent \(by key\): 36 equal, 0 only in A, 0 only in B, 1 changed\n$/)

    const missing = await run(['diff', 'orders', `${plaintext}/${topic}-missing`], {env: t.env})
    expect(missing.code).toBe(2)
    expect(missing.stdout.toString()).toBe('')
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^spool: topic '.*-missing' does not exist in kafka:\/\//)])
  })
})
