import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
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

interface Loaded {
  urls: string[]
  react: boolean
  kafka: boolean
  /** avsc, protobufjs or ajv: the schema codecs. */
  codecs: boolean
  /** The bundle's chunk of @oclif/core ran (every command class extends oclif's Command). */
  oclif: boolean
  /** oclif's execute and Config.load: the slow path (src/cli/oclif-run.ts). */
  oclifRun: boolean
  code: number | null
  stdout: string
  stderr: string
}

function modulesOf(args: string[], options: {env?: NodeJS.ProcessEnv; input?: string} = {}): Loaded {
  const log = join(t.home, `modules-${Math.random()}.log`)
  const hook = join(ROOT, 'test', 'helpers', 'module-log.mjs')
  const result = spawnSync(process.execPath, ['--import', hook, BIN, ...args], {
    env: {...(options.env ?? t.env), SPOOL_MODULE_LOG: log},
    encoding: 'utf8',
    input: options.input ?? '',
  })
  const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []
  const files = urls.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u))
  const bundled = files.filter((f) => f.includes(`${join('dist', 'bundle')}`)).map((f) => readFileSync(f, 'utf8'))
  return {
    urls,
    react: bundled.some((text) => /react\.(transitional\.)?element/.test(text)),
    // The client is bundled into the Kafka backend's chunk (scripts/bundle.js); its WebAssembly helpers stay a package.
    kafka: urls.some((u) => u.includes('@platformatic/')) || bundled.some((text) => text.includes('node_modules/@platformatic/kafka/dist/')),
    codecs: urls.some((u) => /node_modules\/(avsc|protobufjs|ajv)\//.test(u)),
    oclif: bundled.some((text) => text.includes('node_modules/@oclif/core/lib/command.js')),
    oclifRun: urls.some((u) => /\/chunks\/oclif-run-[^/]*\.js$/.test(u)),
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
  }
}

describe('start-up', () => {
  it('--version and the local commands load neither ink/react nor the Kafka client', () => {
    for (const args of [['--version'], ['produce', 'orders'], ['consume', 'orders'], ['topic', 'list'], ['group', 'list'], ['top', '--once'], ['diff', 'orders', 'orders'], ['__complete', 'consume', '']]) {
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

  // Each file of the bundle is an ES module to resolve, read, compile and link (~0.5-1 ms apiece):
  // scripts/bundle.js merges the chunks the commands share into core (what consume, produce and the
  // backends reach) and rest (what only other commands reach). esbuild's own split was 25-30 files.
  it('a command loads a handful of files of the bundle, --version one', () => {
    const bundleFiles = (args: string[]) =>
      [...new Set(modulesOf(args, {input: 'b\n'}).urls.filter((u) => u.includes('/dist/bundle/')).map((u) => u.replace(/.*\/dist\/bundle\//, '').replace(/-[A-Z0-9]{8}\.js$/, '.js')))].sort()
    expect(bundleFiles(['--version'])).toEqual(['run.js'])
    expect(bundleFiles(['consume', 'orders'])).toEqual(['chunks/core.js', 'chunks/local-store.js', 'commands/consume.js', 'run.js'])
    expect(bundleFiles(['produce', 'orders'])).toEqual(['chunks/core.js', 'chunks/local-store.js', 'commands/produce.js', 'run.js'])
    expect(bundleFiles(['topic', 'list'])).toEqual(['chunks/core.js', 'chunks/local-store.js', 'chunks/rest.js', 'commands/topic/list.js', 'run.js'])
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

  // The client compiled ~45 Ajv validators and loaded avsc (for its schema registries) when it
  // loaded: ~300 ms of every Kafka command. Bundled, its validators compile only when called (never, as
  // spool leaves the client's `strict` off) and the registries are left out (scripts/bundle.js).
  it('a Kafka command loads neither Ajv nor the schema codecs', () => {
    for (const args of [['topic', 'list'], ['produce', 'orders'], ['consume', 'orders']]) {
      const loaded = modulesOf([...args, '-b', 'kafka://127.0.0.1:1', '--timeout', '1s'], {input: 'a\n'})
      expect({command: args.join(' '), kafka: loaded.kafka, codecs: loaded.codecs}).toEqual({command: args.join(' '), kafka: true, codecs: false})
    }
  })
})

// The fast path (src/cli/fast-path.ts) runs spool's commands without oclif's Config.load; what it cannot
// reproduce goes to oclif. An empty theme file in oclif's config directory is one such case that changes
// nothing else (an empty theme is no theme), so it runs every command both ways for comparison.
describe('start-up fast path', () => {
  const oclifEnv = () => {
    const config = join(t.home, 'xdg-config')
    mkdirSync(join(config, 'spool'), {recursive: true})
    writeFileSync(join(config, 'spool', 'theme.json'), '{}')
    return {...t.env, XDG_CONFIG_HOME: config}
  }

  it('--version loads no oclif at all; commands skip oclif execute; help, topics and unknown commands take it', () => {
    const version = modulesOf(['--version'])
    expect({oclif: version.oclif, oclifRun: version.oclifRun, code: version.code}).toEqual({oclif: false, oclifRun: false, code: 0})
    for (const args of [['produce', 'orders'], ['consume', 'orders'], ['topic', 'list'], ['group', 'list'], ['top', '--once'], ['consume', 'nosuch'], ['produce']])
      expect({command: args.join(' '), oclifRun: modulesOf(args).oclifRun}).toEqual({command: args.join(' '), oclifRun: false})
    for (const args of [[], ['--help'], ['topic', 'list', '--help'], ['topic'], ['nosuch'], ['topic:list'], ['__complete', 'consume', '']])
      expect({command: args.join(' '), oclifRun: modulesOf(args).oclifRun}).toEqual({command: args.join(' '), oclifRun: true})
    expect(modulesOf(['topic', 'list'], {env: {...t.env, DEBUG: 'nothing-matches'}}).oclifRun).toBe(true)
    expect(modulesOf(['topic', 'list'], {env: {...t.env, NODE_ENV: 'test'}}).oclifRun).toBe(true)
    expect(modulesOf(['topic', 'list'], {env: oclifEnv()}).oclifRun).toBe(true)
  })

  it('prints and exits exactly as oclif execute does, for results and for errors', () => {
    // oclif: the fast path hands it to oclif too (a word after a command without arguments joins the id).
    const cases: Array<{args: string[]; input?: string; oclif?: true}> = [
      {args: ['--version']},
      {args: ['produce', 'orders', '-k', 'k1'], input: 'b\nc\n'},
      {args: ['produce', 'fresh', '--partitions', '2'], input: 'x\n'},
      {args: ['consume', 'orders', '--format', '%o %k=%v\\n']},
      {args: ['consume', 'orders', '--json']},
      {args: ['topic', 'list']},
      {args: ['topic', 'list', '--json']},
      {args: ['topic', 'describe', 'orders']},
      {args: ['group', 'list']},
      {args: ['completion', 'bash']},
      {args: ['produce']},
      {args: ['produce', 'x', '--bogus']},
      {args: ['produce', 'x', '--partitions', 'many']},
      {args: ['consume', 'nosuch']},
      {args: ['consume', 'orders', '--from']},
      {args: ['topic', 'list', 'extra'], oclif: true},
      {args: ['topic', 'create', 'bad name']},
      {args: ['consume', 'orders', '-b', 'nonsense://x']},
    ]
    // Each side runs the whole sequence in a store of its own, seeded alike.
    const other = tempHome()
    try {
      const otherEnv = {...oclifEnv(), SPOOL_HOME: other.home}
      const seeded = spawnSync(process.execPath, [BIN, 'produce', 'orders'], {env: otherEnv, input: 'a\n'})
      expect(seeded.status).toBe(0)
      for (const {args, input, oclif} of cases) {
        const fast = modulesOf(args, {input})
        const slow = modulesOf(args, {input, env: otherEnv})
        expect({args, fast: fast.oclifRun, slow: slow.oclifRun}).toEqual({args, fast: oclif ?? false, slow: true})
        // The two stores differ only in where they are and in when their records were written.
        const normal = (text: string, home: string) =>
          text.replaceAll(home, 'HOME').replace(/\b1\d{12}\b/g, 'MS').replace(/\d{4}-\d\d-\d\d[T ][\d:.]+Z?/g, 'TIME')
        const same = (r: Loaded, home: string) => ({code: r.code, stdout: normal(r.stdout, home), stderr: normal(r.stderr, home)})
        expect({args, ...same(fast, t.home)}).toEqual({args, ...same(slow, other.home)})
      }
    } finally {
      other.cleanup()
    }
  })
})
