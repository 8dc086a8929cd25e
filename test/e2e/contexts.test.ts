import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
let env: NodeJS.ProcessEnv
beforeEach(() => {
  t = tempHome()
  env = {...t.env, SPOOL_CONFIG_HOME: join(t.home, 'config')}
})
afterEach(() => t.cleanup())

describe('contexts', () => {
  it('the first context added does not become current: only --use or context use switches', async () => {
    await run(['produce', 'local-topic'], {env, input: 'x\n'})
    const added = await run(['context', 'add', 'dev', '-b', 'kafka://127.0.0.1:1'], {env})
    expect(added.code).toBe(0)
    expect(added.stderr).toBe("spool: context 'dev' saved; use it with --context dev, or make it current with: spool context use dev\n")
    // Commands without -b still use the local store.
    const listed = await run(['topic', 'list', '--json'], {env})
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout.toString()).map((x: {name: string}) => x.name)).toEqual(['local-topic'])

    const used = await run(['context', 'use', 'dev', '--json'], {env})
    expect(JSON.parse(used.stdout.toString())).toEqual({current: 'dev', broker: 'kafka://127.0.0.1:1'})
    const second = await run(['context', 'add', 'prod', '-b', 'kafka://127.0.0.1:2', '--use', '--json'], {env})
    expect(JSON.parse(second.stdout.toString())).toEqual({context: 'prod', broker: 'kafka://127.0.0.1:2', current: true})
    const removed = await run(['context', 'remove', 'prod', '--json'], {env})
    expect(JSON.parse(removed.stdout.toString())).toEqual({removed: 'prod'})
  })
})
