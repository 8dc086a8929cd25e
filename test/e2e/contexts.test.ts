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

describe('a context\'s schema registry', () => {
  it('--registry on context add is used by schema commands, with the password from stdin (never argv) or SPOOL_REGISTRY_PASSWORD', async () => {
    const {createServer} = await import('node:http')
    const seen: string[] = []
    const server = createServer((req, res) => {
      seen.push(String(req.headers.authorization))
      res.writeHead(200, {'content-type': 'application/vnd.schemaregistry.v1+json'})
      res.end(req.url === '/subjects' ? '[]' : '{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as {port: number}).port}`
      const added = await run(['context', 'add', 'sr', '-b', 'kafka://127.0.0.1:9', '--registry', url, '--registry-username', 'app', '--registry-password-stdin', '--use'], {env, input: 'pw-from-stdin\n'})
      expect(added.code, added.stderr).toBe(0)
      const listed = await run(['schema', 'list', '--json'], {env})
      expect(listed.code, listed.stderr).toBe(0)
      expect(JSON.parse(listed.stdout.toString())).toEqual([])
      expect(seen.at(-1)).toBe(`Basic ${Buffer.from('app:pw-from-stdin').toString('base64')}`)
      await run(['schema', 'list'], {env: {...env, SPOOL_REGISTRY_PASSWORD: 'from-env'}})
      expect(seen.at(-1)).toBe(`Basic ${Buffer.from('app:from-env').toString('base64')}`)
      // -b naming another backend leaves the current context (and its registry) out: the store is its own.
      const local = await run(['schema', 'list', '--json', '-b', `file:${join(t.home, 'other.db')}`], {env})
      expect(JSON.parse(local.stdout.toString())).toEqual([])
      expect(seen).toHaveLength(2)
      const orphan = await run(['context', 'add', 'x', '-b', 'kafka://127.0.0.1:9', '--registry-username', 'u'], {env})
      expect(orphan.code).toBe(2)
    } finally {
      server.close()
    }
  })
})
