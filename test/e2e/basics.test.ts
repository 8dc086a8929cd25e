import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

describe('produce then consume', () => {
  it('creates the topic on first use, says so on stderr, and prints the value back', async () => {
    const produced = await run(['produce', 'orders'], {env: t.env, input: '{"id":1}\n'})
    expect(produced.code).toBe(0)
    expect(produced.stdout.toString()).toBe('')
    expect(produced.stderr).toMatch(/created topic 'orders'/)
    const consumed = await run(['consume', 'orders'], {env: t.env})
    expect(consumed.code).toBe(0)
    expect(consumed.stdout.toString()).toBe('{"id":1}\n')
  })
})
