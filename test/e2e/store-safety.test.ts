import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {SCHEMA_VERSION} from '../../src/backends/local/schema.js'
import {BIN, run, start, tempHome, waitForOutput} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const seq = (from: number, to: number) => Array.from({length: to - from + 1}, (_, i) => `${from + i}\n`).join('')
const stderrLines = (text: string) => text.split('\n').filter(Boolean)

describe('a damaged store', () => {
  it('a batch whose bytes changed fails the read after the records before it, naming topic, partition and offsets', async () => {
    expect((await run(['produce', 't'], {env: t.env, input: seq(1, 3000)})).code).toBe(0)
    await run(['produce', 't'], {env: t.env, input: seq(3001, 6000)})
    await run(['produce', 't'], {env: t.env, input: seq(6001, 9000)})
    // Change one byte of the second batch's values behind spool's back, keeping its length.
    const db = new Database(t.store)
    const row = db.prepare('SELECT base_offset, record_count, data FROM batches ORDER BY base_offset LIMIT 1 OFFSET 1').get() as {base_offset: number; record_count: number; data: Buffer}
    const data = Buffer.from(row.data)
    data[data.length - 2] = data[data.length - 2] === 0x37 ? 0x38 : 0x37
    db.prepare('UPDATE batches SET data = ? WHERE base_offset = ?').run(data, row.base_offset)
    db.close()

    const consumed = await run(['consume', 't'], {env: t.env})
    expect(consumed.code).toBe(1)
    expect(consumed.stdout.toString()).toBe(seq(1, 3000))
    expect(stderrLines(consumed.stderr)).toEqual([
      `spool: store ${t.store} is damaged: topic 't' partition 0, offsets 3000-5999: the batch does not match its checksum (see everything that is damaged with: spool check -b file:${t.store})`,
    ])
    // Reads that start past the damage still work.
    expect((await run(['consume', 't', '--from', '6000', '-c', '1'], {env: t.env})).stdout.toString()).toBe('6001\n')

    const check = await run(['check', '--json'], {env: t.env})
    expect(check.code).toBe(1)
    const report = JSON.parse(check.stdout.toString())
    expect(report).toMatchObject({ok: false, topics: 1, partitions: 1, batches: 3, records: 6000, withoutChecksum: 0, sqlite: []})
    expect(report.damage).toEqual([{topic: 't', partition: 0, from: 3000, to: 5999, reason: 'the batch does not match its checksum'}])
  })

  it('a damaged batch after many output chunks: the output through the pipe is exactly the records before it', async () => {
    // 15,000 lines of 100 bytes: the batches before the damaged one make some 30 output chunks of 64 KiB,
    // which go to the pipe as they fill, before each batch is done.
    const line = (i: number) => `${String(i).padStart(8, '0')}:${'x'.repeat(90)}\n`
    const lines = (from: number, to: number) => Array.from({length: to - from}, (_, i) => line(from + i)).join('')
    for (const from of [0, 5000, 10000]) expect((await run(['produce', 't'], {env: t.env, input: lines(from, from + 5000)})).code).toBe(0)
    const db = new Database(t.store)
    // The first batch from offset 2000 on (a produce from a pipe cuts its batches where its reads end).
    const row = db.prepare('SELECT base_offset, record_count, data FROM batches WHERE base_offset >= 2000 ORDER BY base_offset LIMIT 1').get() as {base_offset: number; record_count: number; data: Buffer}
    const data = Buffer.from(row.data)
    // The last value's first byte: only the checksum tells.
    data[data.length - 100] ^= 1
    db.prepare('UPDATE batches SET data = ? WHERE base_offset = ?').run(data, row.base_offset)
    db.close()

    const consumed = await run(['consume', 't'], {env: t.env})
    expect(consumed.code).toBe(1)
    expect(consumed.stdout.equals(Buffer.from(lines(0, row.base_offset)))).toBe(true)
    expect(stderrLines(consumed.stderr)[0]).toContain(`offsets ${row.base_offset}-${row.base_offset + row.record_count - 1}: the batch does not match its checksum`)
  })

  it('a batch whose lengths do not add up is damage, not other records or a crash (batches without a checksum too)', async () => {
    await run(['produce', 't'], {env: t.env, input: seq(1, 100)})
    const db = new Database(t.store)
    const row = db.prepare('SELECT base_offset, data FROM batches').get() as {base_offset: number; data: Buffer}
    const data = Buffer.from(row.data)
    // The first value's length field (after the 8-byte header and 100 timestamps) grows by one.
    data.writeInt32LE(data.readInt32LE(8 + 100 * 8) + 1, 8 + 100 * 8)
    // As a store written before checksums would hold it.
    db.prepare('UPDATE batches SET data = ?, crc = NULL').run(data)
    db.close()
    const consumed = await run(['consume', 't'], {env: t.env})
    expect(consumed.code).toBe(1)
    expect(consumed.stdout.toString()).toBe('')
    expect(consumed.stderr).toMatch(/^spool: store .* is damaged: topic 't' partition 0, offsets 0-99: the batch cannot be read \(/)
    const check = await run(['check'], {env: t.env})
    expect(check.code).toBe(1)
    expect(check.stdout.toString()).toContain("damaged: topic 't' partition 0, offsets 0-99: the batch cannot be read")
  })

  it('4 KiB of random bytes anywhere in the middle of the file: the output is the input or a prefix of it, never altered', {timeout: 240_000}, async () => {
    const input = seq(1, 300_000)
    let damaged = 0
    for (let trial = 0; trial < 6; trial++) {
      const home = tempHome()
      try {
        await run(['produce', 't'], {env: home.env, input})
        const size = statSync(home.store).size
        const at = Math.floor(size / 4 + Math.random() * (size / 2))
        const bytes = readFileSync(home.store)
        Buffer.from(Array.from({length: 4096}, () => Math.floor(Math.random() * 256))).copy(bytes, at)
        writeFileSync(home.store, bytes)
        const consumed = await run(['consume', 't'], {env: home.env})
        const out = consumed.stdout.toString()
        if (consumed.code === 0) {
          expect(out === input, `trial ${trial}: exit 0 must mean every record, unchanged`).toBe(true)
          continue
        }
        damaged++
        expect(consumed.code).toBe(1)
        expect(stderrLines(consumed.stderr)).toHaveLength(1)
        expect(consumed.stderr).toMatch(/is damaged/)
        expect(input.startsWith(out), `trial ${trial}: what was printed must be the records before the damage`).toBe(true)
        expect((await run(['check'], {env: home.env})).code).toBe(1)
      } finally {
        home.cleanup()
      }
    }
    // Almost all of such a file is batch data; the odd overwrite of free space changes nothing.
    expect(damaged).toBeGreaterThan(0)
  })

  it('a store written before checksums reads and checks (structure only)', async () => {
    await run(['produce', 't'], {env: t.env, input: seq(1, 10)})
    const db = new Database(t.store)
    db.prepare('UPDATE batches SET crc = NULL').run()
    db.close()
    expect((await run(['consume', 't'], {env: t.env})).stdout.toString()).toBe(seq(1, 10))
    const check = await run(['check'], {env: t.env})
    expect(check.code).toBe(0)
    expect(check.stdout.toString()).toContain('1 batches written before checksums: structure only')
  })
})

describe('files spool did not create', () => {
  const foreign: Array<[string, (path: string) => void]> = [
    ['an SQLite file with only a user_version', (path) => new Database(path).pragma('user_version = 7')],
    ['an SQLite file with only a view', (path) => new Database(path).exec('CREATE VIEW v AS SELECT 1')],
    ['an SQLite file with a table', (path) => new Database(path).exec('CREATE TABLE notes (x)')],
    ['a text file', (path) => writeFileSync(path, 'hello\n')],
  ]
  it.each(foreign)('%s is refused by reads and writes, and left byte for byte as it was', async (_what, make) => {
    const path = join(t.home, 'other.db')
    make(path)
    const before = readFileSync(path)
    for (const args of [['topic', 'list'], ['consume', 't'], ['group', 'list'], ['check'], ['produce', 't'], ['topic', 'create', 't']]) {
      const result = await run([...args, '-b', `file:${path}`], {env: t.env, input: 'x\n'})
      expect(result.code, args.join(' ')).toBe(1)
      expect(stderrLines(result.stderr), args.join(' ')).toHaveLength(1)
      expect(result.stderr).toMatch(/not a spool store|spool did not create/)
    }
    expect(readFileSync(path).equals(before)).toBe(true)
    expect(readdirSync(t.home).sort()).toEqual(['other.db'])
  })

  it('a store of a newer version than this spool knows is refused with one line, by reads and writes, and left as it was', async () => {
    expect((await run(['produce', 't'], {env: t.env, input: 'a\n'})).code).toBe(0)
    const db = new Database(t.store)
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const before = readFileSync(t.store)
    for (const args of [['consume', 't'], ['topic', 'list'], ['produce', 't'], ['check']]) {
      const result = await run(args, {env: t.env, input: 'b\n'})
      expect(result.code, args.join(' ')).toBe(1)
      expect(stderrLines(result.stderr), args.join(' ')).toEqual([expect.stringContaining(`store version ${SCHEMA_VERSION + 1}); upgrade spool`)])
    }
    expect(readFileSync(t.store).equals(before)).toBe(true)
  })

  it('a store cut short: reads and check say it is damaged in one line, and check does not send you to check', async () => {
    await run(['produce', 't'], {env: t.env, input: seq(1, 50_000)})
    truncateSync(t.store, 12_345)
    const read = await run(['consume', 't'], {env: t.env})
    expect(read.code).toBe(1)
    expect(stderrLines(read.stderr)).toEqual([expect.stringMatching(/is damaged .*\(see what is damaged with: spool check -b file:/)])
    const checked = await run(['check'], {env: t.env})
    expect(checked.code).toBe(1)
    expect(stderrLines(checked.stderr)).toEqual([expect.stringMatching(/is damaged \(SQLite: .*\) \(SQLite cannot read its tables, so there is nothing spool can check or copy: restore the store from a copy\)$/)])
  })

  it('spool check of a store that is not there says so (exit 1) and creates nothing, where it passed an empty store', async () => {
    const path = join(t.home, 'typo.db')
    const checked = await run(['check', '-b', `file:${path}`], {env: t.env})
    expect([checked.code, checked.stdout.toString()]).toEqual([1, ''])
    expect(checked.stderr).toBe(`spool: there is no store at ${path} (check the path given with -b file:PATH, or SPOOL_HOME)\n`)
    expect(existsSync(path)).toBe(false)
  })

  it('an empty (0-byte) file becomes a store', async () => {
    const path = join(t.home, 'empty.db')
    writeFileSync(path, '')
    expect((await run(['produce', 't', '-b', `file:${path}`], {env: t.env, input: 'a\n'})).code).toBe(0)
    expect((await run(['consume', 't', '-b', `file:${path}`], {env: t.env})).stdout.toString()).toBe('a\n')
  })
})

describe('reads have no side effects', () => {
  it('reading a store that does not exist says so and creates nothing', async () => {
    const home = join(t.home, 'new', 'dir')
    const env = {...t.env, SPOOL_HOME: home}
    const consumed = await run(['consume', 't'], {env})
    expect(consumed.code).toBe(1)
    expect(consumed.stderr).toBe(`spool: topic 't' does not exist in ${join(home, 'spool.db')} (create it with: spool topic create t)\n`)
    for (const args of [['topic', 'list'], ['group', 'list'], ['top', '--once'], ['topic', 'list', '-b', 'file:nodir/x.db'], ['check'], ['group', 'describe', 'g']]) {
      const result = await run(args, {env, cwd: t.home})
      expect([0, 1], `${args.join(' ')}: ${result.stderr}`).toContain(result.code)
    }
    expect(existsSync(join(t.home, 'new'))).toBe(false)
    expect(existsSync(join(t.home, 'nodir'))).toBe(false)
  })

  it('a reader does not delete what retention has expired, and does not serve it either', async () => {
    const old = Date.now() - 3 * 86_400_000
    await run(['topic', 'create', 'r', '--retention', '1d'], {env: t.env})
    await run(['produce', 'r', '--input', 'json'], {env: t.env, input: `${JSON.stringify({value: 'old', timestamp: old})}\n`})
    await run(['produce', 'r', '--input', 'json'], {env: t.env, input: `${JSON.stringify({value: 'new'})}\n`})
    const before = readFileSync(t.store)
    expect((await run(['consume', 'r'], {env: t.env})).stdout.toString()).toBe('new\n')
    const described = JSON.parse((await run(['topic', 'describe', 'r', '--json'], {env: t.env})).stdout.toString())
    expect(described.partition_info[0]).toMatchObject({start_offset: 1, end_offset: 2, records: 1})
    expect(readFileSync(t.store).equals(before)).toBe(true)
  })
})

/** Runs spool with DIR mounted read-only (a user namespace, so it works for root too). */
function readOnly(dir: string, args: string[], input = '') {
  const script = `mount --bind -o ro "$1" "$1" && shift && exec "$@"`
  return spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', dir, process.execPath, BIN, ...args], {env: t.env, input, encoding: 'utf8'})
}

describe('a read-only store', () => {
  it('reads from a read-only directory; writes fail with one line in spool words', async () => {
    await run(['produce', 't'], {env: t.env, input: 'a\nb\n'})
    await run(['consume', 't', '-g', 'g', '-c', '1'], {env: t.env})
    for (const args of [['consume', 't'], ['topic', 'list'], ['topic', 'describe', 't'], ['group', 'describe', 'g'], ['check'], ['top', '--once']]) {
      const result = readOnly(t.home, args)
      expect({args, stderr: result.stderr, code: result.status}).toEqual({args, stderr: '', code: 0})
    }
    expect(readOnly(t.home, ['consume', 't']).stdout).toBe('a\nb\n')
    for (const args of [['topic', 'create', 'r'], ['produce', 't'], ['topic', 'delete', 't', '--yes'], ['group', 'delete', 'g']]) {
      const result = readOnly(t.home, args, 'c\n')
      expect(result.status, args.join(' ')).toBe(1)
      expect(stderrLines(result.stderr), args.join(' ')).toHaveLength(1)
      expect(result.stderr, args.join(' ')).toMatch(/read-only/)
      expect(result.stderr).not.toMatch(/attempt to write|SQLITE|sqlite/i)
    }
  })

  it('a full disk is said in spool words', async () => {
    const dir = join(t.home, 'small')
    mkdirSync(dir)
    const script = `mount -t tmpfs -o size=1m tmpfs "$1" && cd "$1" && seq 1 200000 | "$2" "$3" produce t -b file:s.db; echo "exit=$?" >&2`
    const result = spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', dir, process.execPath, BIN], {env: t.env, encoding: 'utf8'})
    expect(result.stderr).toMatch(/disk is full/)
    expect(result.stderr).toMatch(/exit=1/)
    expect(result.stderr).not.toMatch(/SQLITE|database or disk/)
  })
})

describe('a store or topic removed under spool', () => {
  it('a producer whose store file is removed fails instead of reporting records stored', async () => {
    const producer = start(['produce', 't'], {env: t.env})
    const closed = new Promise<number | null>((resolve) => producer.on('close', resolve))
    const stderr: Buffer[] = []
    producer.stderr!.on('data', (d: Buffer) => stderr.push(d))
    producer.stdin!.write('one\n')
    for (let i = 0; i < 200 && (await run(['consume', 't'], {env: t.env})).stdout.toString() !== 'one\n'; i++) await new Promise((r) => setTimeout(r, 25))
    for (const name of readdirSync(t.home)) if (name.startsWith('spool.db')) spawnSync('rm', ['-f', join(t.home, name)])
    producer.stdin!.write('two\nthree\n')
    producer.stdin!.end()
    expect(await closed).toBe(1)
    expect(Buffer.concat(stderr).toString()).toMatch(/store .* was removed while spool was writing to it/)
  })

  it('a follower whose store file is removed stops with one line and exit 1, not blind to a new store at its path', async () => {
    await run(['produce', 't'], {env: t.env, input: 'one\n'})
    const follower = start(['tail', 't'], {env: t.env})
    let stderr = ''
    follower.stderr!.on('data', (d: Buffer) => (stderr += d))
    const closed = new Promise<number | null>((resolve) => follower.on('close', resolve))
    await waitForOutput(follower.stdout!, (s) => s === 'one\n')
    for (const name of readdirSync(t.home)) if (name.startsWith('spool.db')) spawnSync('rm', ['-f', join(t.home, name)])
    await run(['produce', 't'], {env: t.env, input: 'two\n'})
    expect(await closed).toBe(1)
    expect(stderr).toMatch(/^spool: store .* was removed while spool was following it \(.*\)\n$/)
  })

  it('a follower of a topic that is deleted stops with one line and exit 1', async () => {
    await run(['produce', 'd'], {env: t.env, input: 'x\n'})
    const follower = start(['consume', 'd', '-f'], {env: t.env})
    const closed = new Promise<number | null>((resolve) => follower.on('close', resolve))
    const stderr: Buffer[] = []
    follower.stderr!.on('data', (d: Buffer) => stderr.push(d))
    await waitForOutput(follower.stdout!, (text) => text === 'x\n')
    expect((await run(['topic', 'delete', 'd', '--yes'], {env: t.env})).code).toBe(0)
    expect(await closed).toBe(1)
    expect(Buffer.concat(stderr).toString()).toBe("spool: topic 'd' was deleted\n")
  })
})
