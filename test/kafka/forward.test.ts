import {execFileSync, type ChildProcess} from 'node:child_process'
import {readFileSync} from 'node:fs'
import Database from 'better-sqlite3'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {KafkaBackend} from '../../src/backends/kafka/kafka-backend.js'
import {batchOf} from '../contract/backend-contract.js'
import {envelopes, run, start, tempHome, unique, waitForOutput} from '../helpers/cli.js'
// @ts-expect-error: a plain ESM script shared with the bench, without type declarations
import {startBroker} from '../../scripts/kafka-broker.mjs'

// The edge-to-centre forwarder (issue 12): a local store copied into Kafka by `pipe -g G [-f]`, killed
// with SIGKILL at random moments, with the broker stopped and started in between. These tests own their
// broker (the shared one of global-setup.ts cannot be stopped), on fixed ports across its restarts.

interface Broker {
  plaintext: string
  sasl: string
  halt(): Promise<void>
  restart(): Promise<void>
  stop(): Promise<void>
}

let broker: Broker
let t: ReturnType<typeof tempHome>
let kafka: string
let children: ChildProcess[] = []

beforeAll(async () => {
  broker = await startBroker({log: (line: string) => process.stderr.write(`forward broker: ${line}\n`)})
  kafka = `kafka://${broker.plaintext}`
}, 180_000)
afterAll(async () => {
  await broker?.stop()
})
beforeEach(() => {
  t = tempHome()
})
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children = []
  t.cleanup()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function spawnCli(args: string[]): ChildProcess {
  const child = start(args, {env: t.env})
  children.push(child)
  child.stdin!.end()
  return child
}

/**
 * Writes records `from`..`from + n - 1` ("k<i % 97>:<i>", values unique) into the local topic in small
 * commits (a pause after each chunk outlasts produce's linger), so that a copy has many batches to
 * write and commit, and a kill has many moments to land between a write and its commit.
 */
async function produceSequence(topic: string, from: number, n: number, chunk = 100): Promise<void> {
  const producer = start(['produce', topic, '-K', ':'], {env: t.env})
  const closed = new Promise<number | null>((resolve) => producer.on('close', (code) => resolve(code)))
  for (let i = from; i < from + n; i += chunk) {
    const lines = Array.from({length: Math.min(chunk, from + n - i)}, (_, j) => `k${(i + j) % 97}:${i + j}\n`).join('')
    producer.stdin!.write(lines)
    await sleep(15)
  }
  producer.stdin!.end()
  expect(await closed).toBe(0)
}

/** The destination as kcat reads it: [destination partition, value] in offset order per partition. */
function destinationRecords(topic: string): {partition: number; value: string}[] {
  const out = execFileSync('kcat', ['-C', '-b', broker.plaintext, '-t', topic, '-e', '-q', '-f', '%p\t%s\n'], {encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000})
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [partition, value] = line.split('\t')
      return {partition: Number(partition), value: value!}
    })
}

/** Records in the destination (start offsets are 0: nothing is deleted), from kcat's end offsets: fast enough to poll. */
function destinationCount(topic: string, partitions: number): number {
  const query = Array.from({length: partitions}, (_, p) => ['-t', `${topic}:${p}:-1`]).flat()
  try {
    const out = execFileSync('kcat', ['-Q', '-b', broker.plaintext, ...query], {encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore']})
    return [...out.matchAll(/offset (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0)
  } catch {
    return 0
  }
}

/** Everything a stream has said so far. */
function collect(stream: NodeJS.ReadableStream): () => string {
  let text = ''
  stream.on('data', (d: Buffer) => (text += d.toString('utf8')))
  return () => text
}

/** Polls until `check` holds; the test's own timeout bounds the wait. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, limitMs = 240_000): Promise<void> {
  const until = Date.now() + limitMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`still waiting for ${what}`)
    await sleep(250)
  }
}

/**
 * Every source record is in the destination exactly once, and the records of each source partition
 * keep their source order within each destination partition.
 */
async function expectExactCopy(sourceTopic: string, destination: string): Promise<void> {
  const source = new Map<string, {partition: number; offset: number}>()
  for (const e of await envelopes([sourceTopic], t.env)) source.set(e.value, {partition: e.partition, offset: e.offset})
  const copied = destinationRecords(destination)
  const seen = new Map<string, number>()
  for (const r of copied) seen.set(r.value, (seen.get(r.value) ?? 0) + 1)
  const duplicated = [...seen].filter(([, n]) => n > 1).length
  const lost = [...source.keys()].filter((v) => !seen.has(v)).length
  const foreign = [...seen.keys()].filter((v) => !source.has(v)).length
  expect({lost, duplicated, foreign, records: copied.length}).toEqual({lost: 0, duplicated: 0, foreign: 0, records: source.size})
  const last = new Map<string, number>()
  let outOfOrder = 0
  for (const r of copied) {
    const from = source.get(r.value)!
    const lane = `${r.partition}/${from.partition}`
    if ((last.get(lane) ?? -1) > from.offset) outOfOrder++
    last.set(lane, from.offset)
  }
  expect(outOfOrder).toBe(0)
}

describe('forwarding a local store into Kafka', () => {
  it('copies every record exactly once, in source order, through SIGKILLs at random moments and broker restarts', async () => {
    const destination = unique('central')
    await run(['topic', 'create', 'readings', '--partitions', '3'], {env: t.env})
    // A different partition count: keys choose the destination partition (murmur2), so one source batch
    // spreads over several destination partitions and a kill can leave any of them ahead of the others.
    expect((await run(['topic', 'create', destination, '--partitions', '4', '-b', kafka], {env: t.env})).code).toBe(0)
    let total = 20_000
    await produceSequence('readings', 0, total)
    const forward = (extra: string[] = []) => spawnCli(['pipe', 'readings', `${kafka}/${destination}`, '-g', 'uplink', ...extra])
    let killedMidCopy = 0
    let rounds = 0
    let restarts = 0
    /** Kills the forwarder once the destination has grown to a random point of what is left to copy. */
    const killMidCopy = async (forwarder: ChildProcess, before: number) => {
      const closed = new Promise<void>((resolve) => (forwarder.exitCode !== null || forwarder.signalCode !== null ? resolve() : forwarder.once('close', () => resolve())))
      const target = before + 1 + Math.floor(Math.random() * Math.max(1, total - before - 1))
      let exited = false
      void closed.then(() => (exited = true))
      await eventually(() => exited || destinationCount(destination, 4) >= target, 'the copy to reach the chosen point')
      const killedRunning = !exited
      forwarder.kill('SIGKILL')
      await closed
      return killedRunning
    }
    for (; (killedMidCopy < 12 || restarts < 2) && rounds < 60; rounds++) {
      const before = destinationCount(destination, 4)
      let killedRunning: boolean
      if (rounds === 4 || rounds === 9) {
        // The broker stops; a following forwarder started now waits for it; the broker comes back and
        // the forwarder is killed at a random moment after.
        await broker.halt()
        const waiting = forward(['-f', '--timeout', '2s'])
        await waitForOutput(waiting.stderr!, (text) => /Kafka unreachable since/.test(text), 60_000)
        await broker.restart()
        restarts++
        killedRunning = await killMidCopy(waiting, before)
      } else killedRunning = await killMidCopy(forward(), before)
      const after = destinationCount(destination, 4)
      // Killed while it ran, after it had written something: between a write and its commit, or later.
      if (killedRunning && after > before) killedMidCopy++
      // New records arrive between runs, so there is always something to copy.
      await produceSequence('readings', total, 1000)
      total += 1000
    }
    const last = await run(['pipe', 'readings', `${kafka}/${destination}`, '-g', 'uplink'], {env: t.env})
    expect(last.code, last.stderr).toBe(0)
    await expectExactCopy('readings', destination)
    expect(last.stderr).toMatch(/\(exactly-once, group 'uplink'\)/)
    // The kills must have hit copies in progress, and the broker must have restarted, or this proves nothing.
    expect(killedMidCopy, `only ${killedMidCopy} of ${rounds} kills landed mid-copy`).toBeGreaterThanOrEqual(12)
    expect(restarts).toBe(2)
  }, 900_000)

  it('finishes a batch a killed run left half-written before anything of another partition (even with -p), so a later run still finds it', async () => {
    // The state a SIGKILL leaves: records of partition 1's next batch in the destination, stamped, and the
    // group not told. A run that copied and committed partition 0 first would write committed records
    // after them, and the next run's read-back, which stops at the first committed record it meets going
    // backwards, would not reach them: they would be copied twice (found so in the kill test above).
    const destination = unique('central')
    await run(['topic', 'create', 'readings', '--partitions', '2'], {env: t.env})
    expect((await run(['topic', 'create', destination, '--partitions', '1', '-b', kafka], {env: t.env})).code).toBe(0)
    await produceSequence('readings', 0, 200)
    expect((await run(['pipe', 'readings', `${kafka}/${destination}`, '-g', 'uplink'], {env: t.env})).code).toBe(0)
    await produceSequence('readings', 200, 200)
    const interrupted = (await envelopes(['readings'], t.env)).filter((e) => e.partition === 1 && Number(e.value) >= 200).slice(0, 2)
    expect(interrupted).toHaveLength(2)
    const written = interrupted
      .map((e) => JSON.stringify({key: e.key, value: e.value, timestamp: e.timestamp, headers: [{key: 'spool.source', value: `uplink/readings/1/${e.offset}`}]}))
      .join('\n')
    expect((await run(['produce', destination, '-b', kafka, '--input', 'json'], {env: t.env, input: `${written}\n`})).code).toBe(0)
    const partial = await run(['pipe', 'readings', `${kafka}/${destination}`, '-g', 'uplink', '-p', '0'], {env: t.env})
    expect(partial.code, partial.stderr).toBe(0)
    const rest = await run(['pipe', 'readings', `${kafka}/${destination}`, '-g', 'uplink'], {env: t.env})
    expect(rest.code, rest.stderr).toBe(0)
    await expectExactCopy('readings', destination)
  }, 300_000)

  it('waits out a broker outage with one line when Kafka goes and one when it is back, and carries on by itself', async () => {
    const destination = unique('central')
    await run(['topic', 'create', 'readings', '--partitions', '2'], {env: t.env})
    expect((await run(['topic', 'create', destination, '--partitions', '2', '-b', kafka], {env: t.env})).code).toBe(0)
    await produceSequence('readings', 0, 2000)
    const forwarder = spawnCli(['pipe', 'readings', `${kafka}/${destination}`, '-g', 'uplink', '-f', '--timeout', '2s'])
    const forwarderSaid = collect(forwarder.stderr!)
    // A Kafka source waits too: a follower of the destination reads on across the outage.
    const reader = spawnCli(['consume', destination, '-b', kafka, '-f', '--timeout', '2s'])
    const readerSaid = collect(reader.stderr!)
    const readerPrinted = collect(reader.stdout!)
    const printed = () => readerPrinted().split('\n').filter(Boolean).length
    await eventually(() => destinationCount(destination, 2) === 2000, 'the first 2,000 records')
    await broker.halt()
    await produceSequence('readings', 2000, 3000)
    await eventually(() => /Kafka unreachable since/.test(forwarderSaid()), 'the forwarder to notice the outage')
    await eventually(() => /Kafka unreachable since/.test(readerSaid()), 'the reader to notice the outage')
    expect(forwarder.exitCode).toBe(null)
    await broker.restart()
    await eventually(() => printed() >= 5000, 'the reader to print all 5,000 records')
    await eventually(() => /Kafka back; forwarding/.test(forwarderSaid()), 'the forwarder to say Kafka is back')
    const stopped = [forwarder, reader].map((child) => new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code))))
    forwarder.kill('SIGINT')
    reader.kill('SIGINT')
    expect(await Promise.all(stopped)).toEqual([0, 0])
    // One line per change of state, not one per retry.
    const forwarderLines = forwarderSaid().split('\n').filter((line) => /Kafka/.test(line))
    expect(forwarderLines).toHaveLength(2)
    expect(forwarderLines[0]).toMatch(/^spool: Kafka unreachable since \d\d:\d\d:\d\d; [\d,]+ records? waiting$/)
    expect(Number(/; ([\d,]+) record/.exec(forwarderLines[0]!)![1]!.replaceAll(',', ''))).toBeGreaterThan(0)
    expect(forwarderLines[1]).toBe('spool: Kafka back; forwarding')
    expect(readerSaid().split('\n').filter((line) => /Kafka/.test(line))).toEqual([expect.stringMatching(/^spool: Kafka unreachable since \d\d:\d\d:\d\d; waiting for it$/), 'spool: Kafka back; reading'])
    expect(printed()).toBe(5000)
    await expectExactCopy('readings', destination)
  }, 600_000)

  it('stops at once, with one line, on what waiting cannot fix: refused credentials, a deleted topic', async () => {
    await run(['topic', 'create', 'readings'], {env: t.env})
    await produceSequence('readings', 0, 500)
    const refused = await run(['pipe', 'readings', `kafka://${broker.sasl}/${unique('central')}`, '-g', 'uplink', '-f'], {
      env: {...t.env, SPOOL_SASL_MECHANISM: 'PLAIN', SPOOL_SASL_USERNAME: 'alice', SPOOL_SASL_PASSWORD: 'not-the-password'},
    })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^spool: authentication to kafka:\/\/\S+ failed: .*\n$/)

    const destination = unique('central')
    const forwarder = spawnCli(['pipe', 'readings', `${kafka}/${destination}`, '-g', 'uplink', '-f'])
    const said = collect(forwarder.stderr!)
    const closed = new Promise<number | null>((resolve) => forwarder.once('close', (code) => resolve(code)))
    await eventually(() => destinationCount(destination, 1) === 500, 'the first 500 records')
    expect((await run(['topic', 'delete', destination, '--yes', '-b', kafka], {env: t.env})).code).toBe(0)
    await produceSequence('readings', 500, 500)
    expect(await closed).toBe(1)
    const lines = said().split('\n').filter((line) => line && !/created topic/.test(line))
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^spool: topic '${destination}' does not exist in kafka://`))])
  }, 300_000)
})

describe('a write whose requests timed out', () => {
  // What the forwarder's retry after an outage relies on: once settleAppends() resolves, nothing of the
  // failed write can still be stored, so the read-back that follows sees all of it. The broker is frozen
  // (SIGSTOP) while the request sits in its socket: the write times out here, and the broker stores the
  // request when it wakes, after the client has given up on it.
  it('settles it: the requests sent again under their sequence numbers are stored once, and a read after it sees them', async () => {
    const topic = unique('settle')
    const backend = new KafkaBackend({brokers: [broker.plaintext], timeoutMs: 1500})
    const values = Array.from({length: 1000}, (_, i) => `late-${i}`)
    try {
      await backend.createTopic(topic, {partitions: 1})
      // The producer id is asked for here, so that the frozen broker holds the produce request itself.
      await backend.append(topic, [batchOf(0, [{value: Buffer.from('first')}])])
      process.kill(broker.pid, 'SIGSTOP')
      // The signal is asynchronous: wait until the kernel reports the JVM stopped before sending.
      const state = () => readFileSync(`/proc/${broker.pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]
      for (let i = 0; i < 100 && state() !== 'T'; i++) await sleep(20)
      expect(state()).toBe('T')
      let failure: unknown
      try {
        await backend.append(topic, [batchOf(0, values.map((v) => ({value: Buffer.from(v)})))])
      } catch (error) {
        failure = error
      } finally {
        process.kill(broker.pid, 'SIGCONT')
      }
      expect(String(failure)).toMatch(/timed out|unreachable|not answer/i)
      await backend.settleAppends()
      const end = async () => (await backend.describeTopic(topic)).partitionInfo[0]!.end
      expect(await end()).toBe(1001)
      // The late original, whenever the broker got to it, was refused as a duplicate of its resend (or the
      // resend as one of it): nothing more arrives.
      await sleep(3000)
      expect(await end()).toBe(1001)
      const read: string[] = []
      for await (const batch of backend.read([{topic, partition: 0, from: 0, until: 1001}], {signal: new AbortController().signal}))
        for (let i = 0; i < batch.count; i++) read.push(batch.valueAt(i)!.toString())
      expect(read).toEqual(['first', ...values])
    } finally {
      await backend.close()
    }
  }, 120_000)
})

describe('copying Kafka into a local store', () => {
  it('copies every record exactly once, in order, through SIGKILLs at random moments (--cursor: records and position in one local transaction)', async () => {
    const source = unique('central')
    expect((await run(['topic', 'create', source, '--partitions', '3', '-b', kafka], {env: t.env})).code).toBe(0)
    let total = 20_000
    const produceIntoKafka = async (from: number, n: number) => {
      const producer = start(['produce', source, '-K', ':', '-b', kafka], {env: t.env})
      const closed = new Promise<number | null>((resolve) => producer.on('close', (code) => resolve(code)))
      for (let i = from; i < from + n; i += 200) {
        producer.stdin!.write(Array.from({length: Math.min(200, from + n - i)}, (_, j) => `k${(i + j) % 97}:${i + j}\n`).join(''))
        await sleep(15)
      }
      producer.stdin!.end()
      expect(await closed).toBe(0)
    }
    await produceIntoKafka(0, total)
    // The copy's size, read straight from the store, so that each kill lands at a chosen point.
    const copiedCount = () => {
      try {
        const db = new Database(t.store, {readonly: true})
        try {
          const row = db.prepare("SELECT COALESCE(SUM(p.next_offset), 0) AS n FROM partitions p JOIN topics t ON t.id = p.topic_id WHERE t.name = 'copy'").get() as {n: number}
          return row.n
        } finally {
          db.close()
        }
      } catch {
        return 0
      }
    }
    let killedMidCopy = 0
    let rounds = 0
    for (; killedMidCopy < 12 && rounds < 60; rounds++) {
      const before = copiedCount()
      // The copier follows (-f) while the next 1,000 records arrive in small batches, so that it stores
      // many small transactions and the kill lands among them. (Copying a backlog and exiting, a fast
      // copier was past its last transaction before most kills landed.)
      const copier = spawnCli(['pipe', `${kafka}/${source}`, 'copy', '--cursor', 'down', '-f'])
      let exited = false
      const closed = new Promise<void>((resolve) => copier.once('close', () => resolve()))
      void closed.then(() => (exited = true))
      const producing = produceIntoKafka(total, 1000)
      total += 1000
      const target = before + 1 + Math.floor(Math.random() * Math.max(1, total - before - 1))
      await eventually(() => exited || copiedCount() >= target, 'the copy to reach the chosen point')
      // A kill that matters lands while the copier runs, after it stored something.
      const killedRunning = !exited
      copier.kill('SIGKILL')
      await closed
      await producing
      const after = copiedCount()
      if (killedRunning && after > before) killedMidCopy++
    }
    const last = await run(['pipe', `${kafka}/${source}`, 'copy', '--cursor', 'down'], {env: t.env})
    expect(last.code, last.stderr).toBe(0)
    expect(last.stderr).toMatch(/\(exactly-once, cursor 'down' in /)
    const out = execFileSync('kcat', ['-C', '-b', broker.plaintext, '-t', source, '-e', '-q', '-f', '%p\t%o\t%s\n'], {encoding: 'utf8', maxBuffer: 256 << 20})
    const original = new Map<string, {partition: number; offset: number}>()
    for (const line of out.split('\n').filter(Boolean)) {
      const [partition, offset, value] = line.split('\t')
      original.set(value!, {partition: Number(partition), offset: Number(offset)})
    }
    const copy = await envelopes(['copy'], t.env)
    const seen = new Map<string, number>()
    for (const e of copy) seen.set(e.value, (seen.get(e.value) ?? 0) + 1)
    const lost = [...original.keys()].filter((v) => !seen.has(v)).length
    const duplicated = [...seen].filter(([, n]) => n > 1).length
    expect({lost, duplicated, records: copy.length}).toEqual({lost: 0, duplicated: 0, records: original.size})
    // Same partition count: each record keeps its partition, and each partition its order.
    let outOfOrder = 0
    const last_ = new Map<number, number>()
    for (const e of copy) {
      const from = original.get(e.value)!
      if (from.partition !== e.partition || (last_.get(e.partition) ?? -1) > from.offset) outOfOrder++
      last_.set(e.partition, from.offset)
    }
    expect(outOfOrder).toBe(0)
    expect(killedMidCopy, `only ${killedMidCopy} of ${rounds} kills landed mid-copy`).toBeGreaterThanOrEqual(12)
  }, 900_000)
})
