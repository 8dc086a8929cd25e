import {spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, run, sh, tempHome} from '../helpers/cli.js'

// Plain lines into the local store take produce's packed path: a file on stdin is read into one buffer
// that every read reuses (src/io/reused-chunks.ts), and a large produce checkpoints on a worker thread
// (src/backends/local/checkpointer.ts). These tests give stdin as a file, as `spool produce T < file` does.

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

/** Lines whose lengths vary so that records straddle every 256 KiB read at a different place. */
function varied(count: number, crlfEvery = 0): string {
  const lines: string[] = []
  for (let i = 0; i < count; i++) {
    const body = `${i}:${'abcdefghij'.repeat(Math.floor((i * 7919) % 3000 / 10))}${'k'.repeat(i % 10)}`
    lines.push(crlfEvery > 0 && i % crlfEvery === 0 ? `${body}\r` : i % 97 === 0 ? '' : body)
  }
  return lines.join('\n')
}

describe('produce < file', () => {
  it('stores every line exactly, across reads of the reused buffer: empty lines, a CR kept, a last line without a newline', async () => {
    // About 16 MB: 60 reads of 256 KiB, each ending inside a line.
    const input = `${varied(10_000, 13)}\nlast line without a newline`
    const file = join(t.home, 'in.txt')
    writeFileSync(file, input)
    const produced = await sh(`$bin produce lines < '${file}'`, {env: t.env})
    expect(produced.code).toBe(0)
    const consumed = await run(['consume', 'lines'], {env: t.env})
    expect(consumed.stdout.toString()).toBe(`${input}\n`)
  })

  it('keyed lines and JSON lines from a file: records read as views of pooled reads come back exactly', async () => {
    // About 16 MB in 256 KiB reads: a read's buffer is reused once the append holding its records is done.
    const input = `${varied(10_000).split('\n').filter(Boolean).join('\n')}\n`
    const file = join(t.home, 'keyed.txt')
    writeFileSync(file, input)
    expect((await sh(`$bin produce keyed -K : < '${file}'`, {env: t.env})).code).toBe(0)
    expect((await run(['consume', 'keyed', '--format', '%k:%v\n'], {env: t.env})).stdout.toString()).toBe(input)
    const envelopes = input.split('\n').filter(Boolean).map((line) => JSON.stringify({key: line.slice(0, line.indexOf(':')), value: line.slice(line.indexOf(':') + 1)}))
    const jsonFile = join(t.home, 'in.jsonl')
    writeFileSync(jsonFile, `${envelopes.join('\n')}\n`)
    expect((await sh(`$bin produce json --input json < '${jsonFile}'`, {env: t.env})).code).toBe(0)
    expect((await run(['consume', 'json', '--format', '%k:%v\n'], {env: t.env})).stdout.toString()).toBe(input)
  })

  it('strips CRs with --crlf and splits on a multi-byte -D that straddles reads', async () => {
    const lines = varied(5000).split('\n')
    const crlfFile = join(t.home, 'crlf.txt')
    writeFileSync(crlfFile, lines.map((l) => `${l}\r\n`).join(''))
    expect((await sh(`$bin produce crlf --crlf < '${crlfFile}'`, {env: t.env})).code).toBe(0)
    expect((await run(['consume', 'crlf'], {env: t.env})).stdout.toString()).toBe(lines.map((l) => `${l}\n`).join(''))

    const dFile = join(t.home, 'd.txt')
    writeFileSync(dFile, lines.join('<|>'))
    expect((await sh(`$bin produce delimited -D '<|>' < '${dFile}'`, {env: t.env})).code).toBe(0)
    expect((await run(['consume', 'delimited'], {env: t.env})).stdout.toString()).toBe(lines.map((l) => `${l}\n`).join(''))
  })

  it('a produce past the size that starts the checkpoint thread stores every record, checks clean and leaves no -wal file', async () => {
    // 48 MB: past the 4 MB after which checkpoints move to the thread.
    const line = `${'x'.repeat(99)}\n`
    const file = join(t.home, 'big.txt')
    writeFileSync(file, line.repeat(480_000))
    const produced = await sh(`$bin produce big < '${file}'`, {env: t.env})
    expect(produced.code).toBe(0)
    expect(existsSync(`${t.store}-wal`)).toBe(false)
    const counted = await sh(`$bin consume big | wc -l`, {env: t.env})
    expect(counted.stdout.toString().trim()).toBe('480000')
    const checked = await run(['check'], {env: t.env})
    expect(checked.code).toBe(0)
  })

  it('a 100 MB produce from a file cuts every batch at the line that fills 1 MiB, none short', async () => {
    // 1,000,000 lines of 100 bytes, each stored with a newline after it (store version 9): ceil(1 MiB / 101)
    // = 10,382 records fill a batch. Batches used to be cut
    // after the 256 KiB read that filled them (up to 12,978 records), or short whenever the linger timer
    // fired between two reads on a busy machine (156 batches instead of 96).
    const count = 1_000_000
    const file = join(t.home, 'hundred.txt')
    writeFileSync(file, Array.from({length: count}, (_, i) => `${i}:`.padEnd(100, 'z')).join('\n') + '\n')
    const produced = await sh(`$bin produce hundred < '${file}'`, {env: t.env})
    expect(produced.code).toBe(0)
    expect(existsSync(`${t.store}-wal`)).toBe(false)

    const db = new Database(t.store, {readonly: true})
    const counts = (db.prepare('SELECT record_count AS n FROM batches ORDER BY base_offset').all() as {n: number}[]).map((r) => r.n)
    db.close()
    expect(counts.reduce((a, b) => a + b, 0)).toBe(count)
    expect(counts.slice(0, -1).every((n) => n === 10_382)).toBe(true)
    expect(counts.length).toBe(Math.ceil(count / 10_382))
    const counted = await sh(`$bin consume hundred | wc -l`, {env: t.env})
    expect(counted.stdout.toString().trim()).toBe(String(count))
    expect((await run(['check'], {env: t.env})).code).toBe(0)
  })

  it('a produce of a large file killed with SIGKILL while checkpoints run on the thread leaves a prefix of whole batches', async () => {
    const count = 900_000
    const file = join(t.home, 'kill.txt')
    writeFileSync(file, Array.from({length: count}, (_, i) => `${i}:${'y'.repeat(90)}`).join('\n') + '\n')
    const input = openSync(file, 'r')
    const producer = spawn(process.execPath, [BIN, 'produce', 'killed'], {env: t.env, stdio: [input, 'ignore', 'pipe']})
    closeSync(input)
    const closed = new Promise((resolve) => producer.on('close', resolve))
    // Kill once 48 MB have been written (store and log together): the thread has been checkpointing since
    // the first 4 MB, and commits hold four batches each.
    const size = (path: string) => (existsSync(path) ? statSync(path).size : 0)
    for (let i = 0; i < 2000 && size(t.store) + size(`${t.store}-wal`) < 48 << 20; i++) await new Promise((r) => setTimeout(r, 5))
    producer.kill('SIGKILL')
    await closed

    const db = new Database(t.store, {readonly: true})
    expect(db.pragma('integrity_check', {simple: true})).toBe('ok')
    db.close()
    const out = await run(['consume', 'killed'], {env: t.env})
    expect(out.code).toBe(0)
    const values = out.stdout.toString().split('\n').filter(Boolean)
    expect(values.length).toBeGreaterThan(0)
    expect(values.length).toBeLessThan(count)
    // A prefix: record i is line i, for every record stored.
    for (let i = 0; i < values.length; i += 997) expect(values[i]).toBe(`${i}:${'y'.repeat(90)}`)
    expect(values.at(-1)).toBe(`${values.length - 1}:${'y'.repeat(90)}`)
    expect(readFileSync(file, 'utf8').startsWith(out.stdout.toString())).toBe(true)
    expect((await run(['check'], {env: t.env})).code).toBe(0)
  })
})
