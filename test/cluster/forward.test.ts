import {type ChildProcess, execFileSync} from 'node:child_process'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, start, tempHome} from '../helpers/cli.js'
import {cluster} from '../helpers/cluster.js'

// The edge-to-centre forwarder (`pipe LOCAL kafka://.../T -g G -f`) into a replication-3,
// min.insync.replicas=2 topic of the three-node cluster, while the partition's leader is killed with
// SIGKILL, or every node is. The first is failover inside each call (a leader moved within a live
// cluster); the second is the -f outage wait around the calls (no node answers at all). Every record
// carries its sequence number; kcat, not spool, reads the destination back.
let t: ReturnType<typeof tempHome>
let destination: string
let kafka: string
let children: ChildProcess[] = []

const record = (n: number) => `seq-${String(n).padStart(6, '0')}`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Each sequence number kcat finds in the destination, with how many times it is there. */
function readBack(name: string): Map<string, number> {
  const out = execFileSync('kcat', ['-C', '-b', cluster.bootstrap, '-t', name, '-e', '-q', '-f', '%s\n'], {encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20})
  const counts = new Map<string, number>()
  for (const line of out.split('\n').filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1)
  return counts
}

/** Records in the destination's partition 0 (kcat's end offset; nothing is deleted): cheap to poll. */
function destinationCount(name: string): number {
  try {
    const out = execFileSync('kcat', ['-Q', '-b', cluster.bootstrap, '-t', `${name}:0:-1`], {encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore']})
    return Number(/offset (\d+)/.exec(out)?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** Polls until `test` holds; a hang fails the test by its timeout. */
async function until(test: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await test())) await sleep(200)
}

/** Appends records [from, to) to the local source topic, in small commits so the forwarder has many batches to send. */
async function produceLocal(from: number, to: number, chunk = 200): Promise<void> {
  const producer = start(['produce', 'readings'], {env: t.env})
  const closed = new Promise<number | null>((resolve) => producer.on('close', (code) => resolve(code)))
  for (let i = from; i < to; i += chunk) {
    producer.stdin!.write(Array.from({length: Math.min(chunk, to - i)}, (_, j) => `${record(i + j)}\n`).join(''))
    await sleep(20)
  }
  producer.stdin!.end()
  expect(await closed).toBe(0)
}

function forwarder(): {child: ChildProcess; said: () => string} {
  const child = start(['pipe', 'readings', `${kafka}/${destination}`, '-g', 'uplink', '-f', '--timeout', '10s'], {env: t.env})
  child.stdin!.end()
  children.push(child)
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  return {child, said: () => stderr}
}

/** Every record 0..total-1 in the destination exactly once. */
function expectExactlyOnce(total: number) {
  const counts = readBack(destination)
  const missing = Array.from({length: total}, (_, n) => record(n)).filter((r) => !counts.has(r))
  const duplicated = [...counts].filter(([, count]) => count > 1)
  expect({missing: missing.length, duplicated: duplicated.length, stored: counts.size}).toEqual({missing: 0, duplicated: 0, stored: total})
}

beforeEach(async () => {
  t = tempHome()
  kafka = `kafka://${cluster.bootstrap}`
  destination = `central-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`
  await cluster.heal()
  const created = await run(['topic', 'create', destination, '-r', '3', '-c', 'min.insync.replicas=2', '-b', kafka], {env: t.env})
  expect(created.stderr).toBe(`spool: created topic '${destination}' (1 partition)\n`)
  await cluster.waitFor(destination, 0, (s) => s.leader > 0 && s.isr.length === 3)
  expect((await run(['topic', 'create', 'readings'], {env: t.env})).code).toBe(0)
})
afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children = []
  t.cleanup()
  // A node whose start the test did not see through (a failure mid-test) is started here.
  await Promise.all(cluster.nodes().map(({id}) => cluster.start(id)))
})

describe('forwarding a local store into a three-node cluster', () => {
  it('the partition leader killed with SIGKILL mid-copy and restarted: every record exactly once', async () => {
    await produceLocal(0, 3000)
    const {child, said} = forwarder()
    // The kill lands once part of the copy is stored: the forwarder then holds the old leader.
    await until(() => destinationCount(destination) >= 1000)
    const {leader} = await cluster.partition(destination)
    const feeding = produceLocal(3000, 9000)
    await cluster.kill(leader)
    await cluster.waitFor(destination, 0, (s) => s.leader > 0 && s.leader !== leader)
    await feeding
    await cluster.start(leader)
    await cluster.waitFor(destination, 0, (s) => s.isr.length === 3)
    await produceLocal(9000, 10_000)
    await until(() => destinationCount(destination) >= 10_000 || child.exitCode !== null)
    expect(child.exitCode, said()).toBe(null)
    expectExactlyOnce(10_000)
  })

  it('every node killed for 20 s mid-copy, then started again: the forwarder waits it out, every record exactly once', async () => {
    await produceLocal(0, 3000)
    const {child, said} = forwarder()
    await until(() => destinationCount(destination) >= 1000)
    const nodes = cluster.nodes().map((n) => n.id)
    await Promise.all(nodes.map((id) => cluster.kill(id)))
    // Records arrive at the edge while the centre is gone.
    await produceLocal(3000, 6000)
    await until(() => /Kafka unreachable since/.test(said()))
    await sleep(20_000)
    // Together: one node alone is no quorum, and does not finish starting until a second one runs.
    await Promise.all(nodes.map((id) => cluster.start(id)))
    await produceLocal(6000, 8000)
    await until(() => destinationCount(destination) >= 8000 || child.exitCode !== null)
    expect(child.exitCode).toBe(null)
    // Only the outage's state lines, one when Kafka went and one when it was back (a node list that comes
    // back one node at a time may make that more than one pair).
    const lines = said().split('\n').filter(Boolean)
    expect(lines.filter((l) => !/^spool: Kafka (unreachable since \d\d:\d\d:\d\d; .*|back; forwarding)$/.test(l))).toEqual([])
    expect(lines.at(0)).toMatch(/^spool: Kafka unreachable since/)
    expect(lines.at(-1)).toBe('spool: Kafka back; forwarding')
    expectExactlyOnce(8000)
  })
})
