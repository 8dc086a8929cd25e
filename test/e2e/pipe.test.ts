import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {envelopes, run, start, tempHome} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const keyed = (n: number, from = 0) => Array.from({length: n}, (_, i) => `k${(from + i) % 97}:v${from + i}`).join('\n') + '\n'
/** What must survive a copy: everything but the topic name. */
const content = (e: Record<string, any>) => ({partition: e.partition, offset: e.offset, timestamp: e.timestamp, key: e.key, value: e.value, headers: e.headers})
const sorted = (xs: Array<Record<string, any>>) => [...xs].sort((a, b) => a.partition - b.partition || a.offset - b.offset)

describe('pipe', () => {
  it('copies keys, values, headers, timestamps and partitions; a rerun continues where it stopped', async () => {
    await run(['topic', 'create', 'src', '--partitions', '3'], {env: t.env})
    await run(['produce', 'src', '-K', ':', '-H', 'origin=test', '-H', 'origin=dup'], {env: t.env, input: keyed(5000)})
    const first = await run(['pipe', 'src', 'dst', '-g', 'copier'], {env: t.env})
    expect(first.code).toBe(0)
    expect(first.stderr).toMatch(/copied 5000 of 5000 records from src to dst \(exactly-once, group 'copier'\)/)
    await run(['produce', 'src', '-K', ':'], {env: t.env, input: keyed(100, 5000)})
    const second = await run(['pipe', 'src', 'dst', '-g', 'copier'], {env: t.env})
    expect(second.stderr).toMatch(/copied 100 of 100 records/)
    expect(sorted(await envelopes(['dst'], t.env)).map(content)).toEqual(sorted(await envelopes(['src'], t.env)).map(content))
  })

  it('-f keeps copying records as they arrive', async () => {
    await run(['produce', 'live'], {env: t.env, input: 'a\n'})
    const piper = start(['pipe', 'live', 'live-copy', '-g', 'p', '-f'], {env: t.env})
    const waitFor = async (expected: string) => {
      for (let i = 0; i < 400; i++) {
        const out = await run(['consume', 'live-copy'], {env: t.env})
        if (out.stdout.toString() === expected) return
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error(`live-copy never held ${JSON.stringify(expected)}`)
    }
    await waitFor('a\n')
    await run(['produce', 'live'], {env: t.env, input: 'b\nc\n'})
    await waitFor('a\nb\nc\n')
    const closed = new Promise((resolve) => piper.on('close', resolve))
    piper.kill('SIGINT')
    expect(await closed).toBe(0)
  })

  it('between topics of one store, copies every record exactly once through 20 SIGKILLs at random moments mid-copy and reruns', async () => {
    await run(['topic', 'create', 'src', '--partitions', '3'], {env: t.env})
    await run(['produce', 'src', '-K', ':', '-H', 'h=1'], {env: t.env, input: keyed(100_000)})
    await run(['topic', 'create', 'dst', '--partitions', '3'], {env: t.env})
    let total = 100_000
    // Progress is read straight from the store, so each kill can land at a chosen point mid-copy.
    const db = new Database(join(t.home, 'spool.db'), {readonly: true})
    const copied = db.prepare(
      "SELECT COALESCE(SUM(p.next_offset), 0) AS n FROM partitions p JOIN topics t ON t.id = p.topic_id WHERE t.name = 'dst'",
    )
    let killedMidCopy = 0
    let rounds = 0
    try {
      // A kill that lands after the copy has caught up proves nothing, and how many do depends on the
      // machine's load: go on until 20 kills have landed mid-copy (a busy machine takes more rounds).
      for (; killedMidCopy < 20 && rounds < 80; rounds++) {
        const already = (copied.get() as {n: number}).n
        const target = already + Math.floor(Math.random() * (total - already))
        const piper = start(['pipe', 'src', 'dst', '-g', 'eo', '-f'], {env: t.env})
        const closed = new Promise<NodeJS.Signals | null>((resolve) => piper.on('close', (_code, signal) => resolve(signal)))
        for (let i = 0; i < 5000 && (copied.get() as {n: number}).n < target; i++) await new Promise((r) => setTimeout(r, 1))
        piper.kill('SIGKILL')
        expect(await closed).toBe('SIGKILL')
        if ((copied.get() as {n: number}).n < total) killedMidCopy++
        // New records arrive between runs, so there is always something to copy.
        await run(['produce', 'src', '-K', ':', '-H', 'h=1'], {env: t.env, input: keyed(5000, total)})
        total += 5000
      }
    } finally {
      db.close()
    }
    const last = await run(['pipe', 'src', 'dst', '-g', 'eo'], {env: t.env})
    expect(last.code).toBe(0)
    const source = sorted(await envelopes(['src'], t.env)).map(content)
    const copy = sorted(await envelopes(['dst'], t.env)).map(content)
    expect(source).toHaveLength(total)
    expect(copy.length).toBe(source.length)
    expect(copy).toEqual(source)
    // The kills must have hit copies in progress, or the test proves nothing.
    expect(killedMidCopy, `only ${killedMidCopy} of ${rounds} kills landed mid-copy`).toBeGreaterThanOrEqual(20)
  }, 300_000)

  it('two copies with one group between topics of one store: the one behind is refused, the copy has every record once', async () => {
    const {sh} = await import('../helpers/cli.js')
    expect((await sh('seq 1 2000000 | $bin produce src', {env: t.env})).code).toBe(0)
    const both = await sh('$bin pipe src dst -g g1 2>"$SPOOL_HOME/a.err" & $bin pipe src dst -g g1 2>"$SPOOL_HOME/b.err"; wait; cat "$SPOOL_HOME/a.err" "$SPOOL_HOME/b.err"', {env: t.env})
    const stderr = both.stdout.toString()
    // Without the check both copies wrote every record (4,000,000) and each said "exactly-once".
    expect(stderr).toMatch(/spool: another reader with group 'g1' has already read src\/0 past offset \d+ in .* \(run one reader per group: two with one group each read every record\)/)
    expect((await run(['count', 'dst'], {env: t.env})).stdout.toString()).toBe('2000000\n')
    const diff = await run(['diff', 'src', 'dst'], {env: t.env})
    expect(diff.code, diff.stdout.toString()).toBe(0)
  })

  it('--filter, --map and --exec transform on the way', async () => {
    const orders = [{id: 1, amount: 50}, {id: 2, amount: 5000}, {id: 3, amount: 1200}].map((o) => JSON.stringify(o)).join('\n') + '\nnot json\n'
    await run(['produce', 'orders'], {env: t.env, input: orders})
    const filtered = await run(['pipe', 'orders', 'big', '--filter', 'r.json?.amount > 1000', '--map', '({value: {...r.json, big: true}})'], {env: t.env})
    expect(filtered.code).toBe(0)
    expect((await run(['consume', 'big'], {env: t.env})).stdout.toString()).toBe('{"id":2,"amount":5000,"big":true}\n{"id":3,"amount":1200,"big":true}\n')

    await run(['pipe', 'orders', 'upper', '--map', 'r.value.toUpperCase()'], {env: t.env})
    expect((await run(['consume', 'upper', '-c', '1', '--from', '-1'], {env: t.env})).stdout.toString()).toBe('NOT JSON\n')

    // --exec: one JSON envelope per line in, one out; an empty line or null drops the record. No shell.
    const program = `${process.execPath} -e "require('readline').createInterface({input: process.stdin}).on('line', (l) => { const e = JSON.parse(l); e.value = e.value.split('').reverse().join(''); console.log(JSON.stringify(e)) })"`
    const execed = await run(['pipe', 'orders', 'reversed', '--exec', program], {env: t.env})
    expect(execed.stderr).toMatch(/copied 4 of 4/)
    expect((await run(['consume', 'reversed', '--from', '-1'], {env: t.env})).stdout.toString()).toBe('nosj ton\n')
  })

  it('--exec with a program that buffers its output (jq -c . on a pipe): the copy completes at the end of the source', async () => {
    await run(['produce', 'src'], {env: t.env, input: Array.from({length: 500}, (_, i) => `{"n":${i}}\n`).join('')})
    // jq writes in blocks when its output is not a terminal, so its answers come when its input ends.
    const piped = await run(['pipe', 'src', 'dst', '--exec', 'jq -c .'], {env: t.env})
    expect(piped.code).toBe(0)
    expect(piped.stderr).toMatch(/copied 500 of 500/)
    expect((await run(['consume', 'dst'], {env: t.env})).stdout.toString().split('\n').filter(Boolean)).toHaveLength(500)
  })

  it('Ctrl-C stops a following --exec pipe at once, with every answered record written and committed', async () => {
    await run(['produce', 'src'], {env: t.env, input: Array.from({length: 300}, (_, i) => `{"n":${i}}\n`).join('')})
    // A program that answers nothing until its input ends, and says when it has read all 300 records.
    const marker = join(t.home, 'read-all')
    const program = join(t.home, 'hold.py')
    writeFileSync(program, `import sys\nlines = []\nfor line in sys.stdin:\n    lines.append(line)\n    if len(lines) == 300: open(${JSON.stringify(marker)}, 'w').close()\nsys.stdout.write(''.join(lines))\n`)
    const piping = start(['pipe', 'src', 'dst', '-g', 'g', '-f', '--exec', `python3 ${program}`], {env: t.env})
    const closed = new Promise<number | null>((resolve) => piping.on('close', resolve))
    for (let i = 0; i < 400 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25))
    expect(existsSync(marker)).toBe(true)
    piping.kill('SIGINT')
    expect(await closed).toBe(0)
    expect((await run(['consume', 'dst'], {env: t.env})).stdout.toString().split('\n').filter(Boolean)).toHaveLength(300)
    const group = JSON.parse((await run(['group', 'describe', 'g', '--json'], {env: t.env})).stdout.toString())
    expect(group).toEqual([{topic: 'src', partition: 0, committed: 300, end: 300, lag: 0}])
  }, 20_000)

  it('a failing --map stops with a one-line error naming the record', async () => {
    await run(['produce', 'x'], {env: t.env, input: 'a\n'})
    const result = await run(['pipe', 'x', 'y', '--map', 'r.nope.deeper'], {env: t.env})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^spool: --map 'r.nope.deeper' failed on x\/0@0: /m)
  })

  it('copies into another store, at least once with a group', async () => {
    await run(['produce', 'here', '-K', ':'], {env: t.env, input: keyed(300)})
    const other = join(t.home, 'archive.db')
    const copied = await run(['pipe', 'here', `file:${other}/there`, '-g', 'arch'], {env: t.env})
    expect(copied.code).toBe(0)
    expect(copied.stderr).toMatch(/\(at-least-once, group 'arch'\)/)
    const there = await envelopes(['there'], {...t.env, SPOOL_BROKER: `file:${other}`})
    expect(there.map(content)).toEqual((await envelopes(['here'], t.env)).map(content))
  })
})
