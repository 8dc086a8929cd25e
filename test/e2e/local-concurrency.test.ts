import {execFile} from 'node:child_process'
import {join} from 'node:path'
import {build} from 'esbuild'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ROOT, run, start, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

describe('concurrency', () => {
  it('4 processes producing 25,000 records each into one topic leave 100,000 with dense offsets, none lost or duplicated', async () => {
    await run(['topic', 'create', 'shared'], {env: t.env})
    const producers = [0, 1, 2, 3].map((w) =>
      run(['produce', 'shared', '--linger', '1ms'], {env: t.env, input: Array.from({length: 25_000}, (_, i) => `w${w}-${i}`).join('\n') + '\n'}),
    )
    for (const result of await Promise.all(producers)) {
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
    }
    const out = await run(['consume', 'shared', '--format', '%o %v\\n'], {env: t.env})
    const rows = out.stdout.toString().trim().split('\n').map((line) => line.split(' '))
    expect(rows).toHaveLength(100_000)
    expect(rows.map(([offset]) => Number(offset))).toEqual(Array.from({length: 100_000}, (_, i) => i))
    for (const w of [0, 1, 2, 3]) {
      const mine = rows.filter(([, value]) => value!.startsWith(`w${w}-`)).map(([, value]) => Number(value!.split('-')[1]))
      expect(mine).toEqual(Array.from({length: 25_000}, (_, i) => i))
    }
  })
})

describe('crashes', () => {
  it('a produce killed with SIGKILL leaves a store that opens cleanly and holds a prefix of its input', async () => {
    const line = (i: number) => `line-${i}-${'z'.repeat(i % 50)}`
    for (let round = 0; round < 4; round++) {
      const topic = `crash${round}`
      const producer = start(['produce', topic, '--linger', '1ms'], {env: t.env})
      producer.stdin!.on('error', () => {})
      let written = 0
      let stop = false
      const feed = async () => {
        while (!stop) {
          const chunk = Array.from({length: 2000}, (_, k) => line(written + k)).join('\n') + '\n'
          written += 2000
          if (!producer.stdin!.write(chunk))
            await new Promise<void>((resolve) => {
              const done = () => {
                producer.stdin!.off('drain', done)
                producer.stdin!.off('close', done)
                resolve()
              }
              producer.stdin!.once('drain', done)
              producer.stdin!.once('close', done)
            })
        }
      }
      const feeding = feed().catch(() => {})
      // Kill at a different moment each round, once some records are committed.
      const target = 5000 * (round + 1)
      for (let i = 0; i < 400; i++) {
        const seen = await run(['consume', topic, '--from', String(target), '-c', '1'], {env: t.env})
        if (seen.stdout.length > 0) break
        await new Promise((r) => setTimeout(r, 25))
      }
      const closed = new Promise((resolve) => producer.on('close', resolve))
      stop = true
      producer.kill('SIGKILL')
      await closed
      producer.stdin!.destroy()
      await feeding

      const db = new Database(join(t.home, 'spool.db'), {readonly: true})
      expect(db.pragma('integrity_check', {simple: true})).toBe('ok')
      db.close()
      const out = await run(['consume', topic], {env: t.env})
      expect(out.code).toBe(0)
      const values = out.stdout.toString().split('\n').filter(Boolean)
      expect(values.length).toBeGreaterThan(target)
      expect(values).toEqual(Array.from({length: values.length}, (_, i) => line(i)))
    }
  })
})

describe('a new store', () => {
  it('8 processes creating the same new store at the same moment all open it', async () => {
    // A small program that opens the store at an agreed instant, bundled from the store's own source, so
    // that the processes meet within microseconds instead of the milliseconds CLI start-up spreads them by.
    // It lives under node_modules so that it finds better-sqlite3.
    const opener = join(ROOT, 'node_modules', '.cache', 'spool-test', `open-store-${process.pid}.mjs`)
    await build({
      stdin: {
        contents: `import {LocalBackend} from './src/backends/local/local-store.ts'
          const [path, at] = process.argv.slice(2)
          while (Date.now() < Number(at)) {}
          try { new LocalBackend({path}).close(); console.log('ok') } catch (error) { console.log(error.message) }`,
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['better-sqlite3', '@node-rs/crc32'],
      outfile: opener,
      banner: {js: "import {createRequire as __openerCreateRequire} from 'node:module'; const require = __openerCreateRequire(import.meta.url);"},
      logLevel: 'silent',
    })
    const failures: string[] = []
    for (let round = 0; round < 15; round++) {
      const store = join(t.home, `new-${round}.db`)
      const at = Date.now() + 500
      const opens = Array.from({length: 8}, () =>
        new Promise<string>((resolve) =>
          execFile(process.execPath, [opener, store, String(at)], {cwd: ROOT}, (_error, stdout, stderr) => resolve((stdout + stderr).trim())),
        ),
      )
      for (const said of await Promise.all(opens)) if (said !== 'ok') failures.push(`round ${round}: ${said}`)
    }
    expect(failures).toEqual([])
  })
})
