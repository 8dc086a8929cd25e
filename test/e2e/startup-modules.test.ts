import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, ROOT, run, tempHome} from '../helpers/cli.js'

// Start-up is a feature: the commands people run most must not load ink/react or the Kafka client.
// A loader hook (node --import) records every module a command resolves.
let t: ReturnType<typeof tempHome>
beforeEach(async () => {
  t = tempHome()
  await run(['produce', 'orders'], {env: t.env, input: 'a\n'})
})
afterEach(() => t.cleanup())

function modulesOf(args: string[]): {urls: string[]; react: boolean; kafka: boolean; codecs: boolean} {
  const log = join(t.home, `modules-${Math.random()}.log`)
  const hook = join(ROOT, 'test', 'helpers', 'module-log.mjs')
  spawnSync(process.execPath, ['--import', hook, BIN, ...args], {env: {...t.env, SPOOL_MODULE_LOG: log}, encoding: 'utf8'})
  const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []
  const files = urls.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u))
  return {
    urls,
    react: files.some((f) => f.includes(`${join('dist', 'bundle')}`) && /react\.(transitional\.)?element/.test(readFileSync(f, 'utf8'))),
    kafka: urls.some((u) => u.includes('@platformatic/kafka')),
    codecs: urls.some((u) => /node_modules\/(avsc|protobufjs|ajv)\//.test(u)),
  }
}

describe('start-up', () => {
  it('--version and the local commands load neither ink/react nor the Kafka client', () => {
    for (const args of [['--version'], ['produce', 'orders'], ['consume', 'orders'], ['topic', 'list'], ['group', 'list'], ['top', '--once'], ['__complete', 'consume', '']]) {
      const loaded = modulesOf(args)
      expect(loaded.urls.length, args.join(' ')).toBeGreaterThan(0)
      expect({command: args.join(' '), react: loaded.react, kafka: loaded.kafka, codecs: loaded.codecs}).toEqual({
        command: args.join(' '),
        react: false,
        kafka: false,
        codecs: false,
      })
    }
  })

  it('the schema codecs load only when a schema is involved (the check can see them)', () => {
    const schema = join(t.home, 'v.avsc')
    writeFileSync(schema, '"string"')
    spawnSync(process.execPath, [BIN, 'produce', 'typed', '--value-schema', schema], {env: t.env, input: '"x"\n'})
    expect(modulesOf(['consume', 'typed']).codecs).toBe(false)
    expect(modulesOf(['consume', 'typed', '--decode']).codecs).toBe(true)
  })

  it('a Kafka address loads the Kafka client (the check can see it)', () => {
    expect(modulesOf(['topic', 'list', '-b', 'kafka://127.0.0.1:1', '--timeout', '1s']).kafka).toBe(true)
  })
})
