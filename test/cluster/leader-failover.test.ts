import {type ChildProcess, execFileSync} from 'node:child_process'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, inject, it} from 'vitest'
import {run, start, tempHome} from '../helpers/cli.js'
import {cluster} from '../helpers/cluster.js'

// spool against three KRaft nodes whose partition leader is killed with SIGKILL (no hand-over) and
// started again. Every record carries its sequence number; kcat, not spool, reads the topic back.
let t: ReturnType<typeof tempHome>
let env: NodeJS.ProcessEnv
let topic: string

const record = (n: number) => `seq-${String(n).padStart(6, '0')}`
const lines = (from: number, to: number) => Array.from({length: to - from}, (_, i) => `${record(from + i)}\n`).join('')

/** Each sequence number kcat finds in the topic, with how many times it is there. */
function readBack(name: string): Map<string, number> {
  const out = execFileSync('kcat', ['-C', '-b', cluster.bootstrap, '-t', name, '-e', '-q', '-f', '%s\n'], {encoding: 'utf8', timeout: 60_000})
  const counts = new Map<string, number>()
  for (const line of out.split('\n').filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1)
  return counts
}

/** Polls until `test` holds; a hang fails the test by its timeout. */
async function until(test: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await test())) await new Promise((r) => setTimeout(r, 200))
}

function closed(child: ChildProcess): Promise<{code: number | null; stderr: string}> {
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) => child.on('close', (code) => resolve({code, stderr})))
}

async function createReplicated(name: string) {
  const created = await run(['topic', 'create', name, '-r', '3', '-c', 'min.insync.replicas=2'], {env})
  expect(created.stderr).toBe(`spool: created topic '${name}' (1 partition)\n`)
  return cluster.waitFor(name, 0, (s) => s.leader > 0 && s.isr.length === 3)
}

/** Records from..to-1 into the test's topic, acks=all, refused by nothing. */
async function produce(from: number, to: number): Promise<void> {
  const result = await run(['produce', topic, '--acks', 'all'], {env, input: lines(from, to)})
  expect(result.stderr).toBe('')
}

/**
 * Writes records 0..499, starts `consume ARGS` following them, and once it has printed them kills the
 * partition's leader and waits for another: what both following-read tests go through first.
 */
async function readThroughLeaderKill(args: string[], leader: number) {
  await produce(0, 500)
  const consumer = start(['consume', topic, ...args], {env})
  const done = closed(consumer)
  let out = ''
  consumer.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  await until(() => out.includes(record(499)))
  await cluster.kill(leader)
  await cluster.waitFor(topic, 0, (s) => s.leader > 0 && s.leader !== leader)
  return {done, output: () => out}
}

beforeEach(async () => {
  t = tempHome()
  env = {...t.env, SPOOL_BROKER: `kafka://${inject('cluster').bootstrap}`, SPOOL_CONFIG_HOME: join(t.home, 'config')}
  topic = `seq-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`
  await cluster.heal()
})
afterEach(async () => {
  t.cleanup()
  await cluster.heal()
})

describe('a three-node cluster whose partition leader is killed and restarted', () => {
  it('a topic made with -r 3 -c min.insync.replicas=2 has three replicas and that setting', async () => {
    const state = await createReplicated(topic)
    expect(state.replicas.sort()).toEqual([1, 2, 3])
    expect((await cluster.topicConfigs(topic))['min.insync.replicas']).toBe('2')
    const described = await run(['topic', 'describe', topic, '--json'], {env})
    expect(JSON.parse(described.stdout.toString()).replication_factor).toBe(3)
  })

  it('produce --acks all: every record is stored exactly once across the kill and the restart', async () => {
    const {leader} = await createReplicated(topic)
    const producer = start(['produce', topic, '--acks', 'all'], {env})
    const done = closed(producer)
    // Records before the kill, while no node leads the partition, and after the old leader is back.
    producer.stdin!.write(lines(0, 2000))
    // The kill comes once the first records are stored: the producer is then past its start-up and holds
    // the old leader in its metadata, and the next records go to a dead node.
    await until(() => readBack(topic).size === 2000)
    await cluster.kill(leader)
    producer.stdin!.write(lines(2000, 4000))
    const moved = await cluster.waitFor(topic, 0, (s) => s.leader > 0 && s.leader !== leader)
    producer.stdin!.write(lines(4000, 6000))
    await cluster.start(leader)
    await cluster.waitFor(topic, 0, (s) => s.isr.length === 3)
    producer.stdin!.end(lines(6000, 8000))
    const {code, stderr} = await done
    expect({code, stderr}).toEqual({code: 0, stderr: ''})
    expect(moved.leader).not.toBe(leader)
    const counts = readBack(topic)
    const missing = Array.from({length: 8000}, (_, n) => record(n)).filter((r) => !counts.has(r))
    const duplicated = [...counts].filter(([, count]) => count > 1)
    expect({missing: missing.length, duplicated: duplicated.length, stored: counts.size}).toEqual({missing: 0, duplicated: 0, stored: 8000})
  })

  it('consume -g -f: the read goes on through the kill of the leader and of the coordinator, and the commits lose nothing', async () => {
    const {leader} = await createReplicated(topic)
    const group = `${topic}-g`
    const {done, output} = await readThroughLeaderKill(['-g', group, '-f', '-c', '1500'], leader)
    await produce(500, 1000)
    await cluster.start(leader)
    await cluster.waitFor(topic, 0, (s) => s.isr.length === 3)
    // Then the group's coordinator, which the commits go to.
    const coordinator = await cluster.coordinatorOf(group)
    await produce(1000, 1200)
    await until(() => output().includes(record(1199)))
    await cluster.kill(coordinator)
    await until(async () => ![coordinator, -1].includes(await cluster.coordinatorOf(group).catch(() => -1)))
    await produce(1200, 1500)
    const {code, stderr} = await done
    expect({code, stderr}).toEqual({code: 0, stderr: ''})
    const seen = output().split('\n').filter(Boolean)
    const expected = Array.from({length: 1500}, (_, n) => record(n))
    expect(new Set(seen)).toEqual(new Set(expected))
    // -c 1500 stops at 1500 records: with none lost, none was printed twice either. (A read keeps its
    // own next offsets, so a fetch tried again on the new leader starts where the last one ended.)
    expect(seen).toHaveLength(1500)
    // The group's commits go on from where the read stopped: the next read gets exactly the new records.
    await produce(1500, 1700)
    const next = await run(['consume', topic, '-g', group], {env})
    expect(next.stderr).toBe('')
    expect(next.stdout.toString()).toBe(lines(1500, 1700))
  })

  it('consume --cursor -f: the read goes on through the kill of the leader, and the cursor loses nothing', async () => {
    const {leader} = await createReplicated(topic)
    const {done, output} = await readThroughLeaderKill(['--cursor', 'review', '-f', '-c', '1000'], leader)
    await produce(500, 1000)
    const {code, stderr} = await done
    expect({code, stderr}).toEqual({code: 0, stderr: ''})
    expect(output()).toBe(lines(0, 1000))
    await cluster.start(leader)
    // The cursor (kept in the local store) stands after the last record printed.
    await produce(1000, 1200)
    const next = await run(['consume', topic, '--cursor', 'review'], {env})
    expect(next.stderr).toBe('')
    expect(next.stdout.toString()).toBe(lines(1000, 1200))
  })
})
