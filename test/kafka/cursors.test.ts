import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, inject, it} from 'vitest'
import {envelopes, run, start, tempHome, unique} from '../helpers/cli.js'

// Cursors over a real Kafka broker: positions live in the local store, the cluster sees only reads.
const kafka = inject('kafka')
const plaintext = `kafka://${kafka.plaintext}`
let t: ReturnType<typeof tempHome>
let env: NodeJS.ProcessEnv
let topic: string

const lines = (from: number, to: number) => Array.from({length: to - from}, (_, i) => `r${from + i}`).join('\n') + '\n'

beforeEach(() => {
  t = tempHome()
  env = {...t.env, SPOOL_BROKER: plaintext, SPOOL_CONFIG_HOME: join(t.home, 'config')}
  topic = unique('cursor')
})
afterEach(() => t.cleanup())

describe('cursors on Kafka', () => {
  it('consume --cursor resumes across runs, keeps its position in the local store and creates no consumer group', async () => {
    await run(['produce', topic], {env, input: lines(0, 30)})
    const cursor = unique('c')
    const groupsBefore = JSON.parse((await run(['group', 'list', '--json'], {env})).stdout.toString()).map((g: {group: string}) => g.group)
    expect((await run(['consume', topic, '--cursor', cursor, '-c', '10'], {env})).stdout.toString()).toBe(lines(0, 10))
    expect((await run(['consume', topic, '--cursor', cursor, '-c', '10'], {env})).stdout.toString()).toBe(lines(10, 20))
    // With a kafka:// address on the command line the cursor lives in the default store all the same.
    expect((await run(['consume', topic, '--cursor', cursor, '-b', plaintext], {env: t.env})).stdout.toString()).toBe(lines(20, 30))

    const groupsAfter = JSON.parse((await run(['group', 'list', '--json'], {env})).stdout.toString()).map((g: {group: string}) => g.group)
    expect(groupsAfter.filter((g: string) => !groupsBefore.includes(g))).toEqual([])
    expect(groupsAfter).not.toContain(cursor)

    const db = new Database(t.store, {readonly: true})
    try {
      const stored = db.prepare('SELECT source, topic, partition, position, topic_id FROM cursor_positions WHERE cursor_name = ?').all(cursor) as Array<Record<string, unknown>>
      expect(stored).toHaveLength(1)
      expect(stored[0]).toMatchObject({source: plaintext, topic, partition: 0, position: 30})
      // Kafka's topic id, which tells this topic from one created again under its name.
      expect(stored[0]!.topic_id).toMatch(/^[\w-]{10,}$/)
    } finally {
      db.close()
    }
    const described = await run(['cursor', 'describe', cursor, '--json'], {env})
    expect(described.code, described.stderr).toBe(0)
    expect(JSON.parse(described.stdout.toString())).toEqual([{source: plaintext, topic, partition: 0, position: 30, end: 30, lag: 0}])
    const reset = await run(['cursor', 'reset', cursor, '--to', '-5', '--execute'], {env})
    expect(reset.code, reset.stderr).toBe(0)
    expect((await run(['consume', topic, '--cursor', cursor], {env})).stdout.toString()).toBe(lines(25, 30))
  })

  it('pipe Kafka -> local store with --cursor copies every record exactly once through SIGKILLs and reruns', async () => {
    const local = {...t.env}
    await run(['topic', 'create', topic, '-p', '3'], {env})
    const keyed = (n: number, from: number) => Array.from({length: n}, (_, i) => `k${(from + i) % 37}:${from + i}`).join('\n') + '\n'
    let total = 40_000
    expect((await run(['produce', topic, '-K', ':'], {env, input: keyed(total, 0)})).code).toBe(0)
    const source = `${plaintext}/${topic}`
    await run(['topic', 'create', 'copy', '-p', '3'], {env: local})
    const db = new Database(t.store, {readonly: true})
    let killedMidCopy = 0
    let rounds = 0
    const copied = db.prepare("SELECT COALESCE(SUM(p.next_offset), 0) AS n FROM partitions p JOIN topics t ON t.id = p.topic_id WHERE t.name = 'copy'")
    const copiedSoFar = () => (copied.get() as {n: number}).n
    try {
      for (; killedMidCopy < 6 && rounds < 30; rounds++) {
        const already = copiedSoFar()
        const target = already + Math.floor(Math.random() * (total - already))
        const piper = start(['pipe', source, 'copy', '--cursor', 'bridge', '-f'], {env: local})
        const closed = new Promise<NodeJS.Signals | null>((resolve) => piper.on('close', (_code, signal) => resolve(signal)))
        for (let i = 0; i < 20_000 && copiedSoFar() < target; i++) await new Promise((r) => setTimeout(r, 1))
        piper.kill('SIGKILL')
        expect(await closed).toBe('SIGKILL')
        if (copiedSoFar() < total) killedMidCopy++
        expect((await run(['produce', topic, '-K', ':'], {env, input: keyed(2000, total)})).code).toBe(0)
        total += 2000
      }
    } finally {
      db.close()
    }
    const last = await run(['pipe', source, 'copy', '--cursor', 'bridge'], {env: local})
    expect(last.code, last.stderr).toBe(0)
    expect(last.stderr).toMatch(/exactly-once, cursor 'bridge'/)
    const content = (e: Record<string, any>) => `${e.partition}/${e.offset} ${e.key}=${e.value} @${e.timestamp}`
    const original = (await envelopes([topic], env)).map(content).sort()
    const copy = (await envelopes(['copy'], local)).map(content).sort()
    expect(original).toHaveLength(total)
    expect(copy.length).toBe(original.length)
    expect(copy).toEqual(original)
    expect(killedMidCopy, `only ${killedMidCopy} of ${rounds} kills landed mid-copy`).toBeGreaterThanOrEqual(6)
    // Nothing was committed to the cluster.
    expect(JSON.parse((await run(['group', 'list', '--json'], {env})).stdout.toString()).map((g: {group: string}) => g.group)).not.toContain('bridge')
  }, 400_000)
})
