import {execFileSync, spawn} from 'node:child_process'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, inject, it} from 'vitest'
import {run, sh, start, tempHome, unique} from '../helpers/cli.js'

// consume --merge and count against a real Kafka broker, with Confluent's Python client (librdkafka) as
// a transactional producer: its commit markers take offsets, so offsets are not counts.
const kafka = inject('kafka')
const registry = inject('registry')
const plaintext = `kafka://${kafka.plaintext}`
let t: ReturnType<typeof tempHome>
let env: NodeJS.ProcessEnv

beforeEach(() => {
  t = tempHome()
  env = {...t.env, SPOOL_BROKER: plaintext, SPOOL_CONFIG_HOME: join(t.home, 'config')}
})
afterEach(() => t.cleanup())

async function produceJson(topic: string, records: Array<Record<string, unknown>>) {
  const result = await run(['produce', topic, '--input', 'json'], {env, input: records.map((r) => JSON.stringify(r)).join('\n')})
  expect(result.code, result.stderr).toBe(0)
}

/** Commits `transactions` transactions of `each` records into partition 0 with a transactional producer. */
function produceTransactions(topic: string, transactions: number, each: number): void {
  const script = `
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'transactional.id': sys.argv[2]})
p.init_transactions(30)
n = 0
for _ in range(int(sys.argv[4])):
    p.begin_transaction()
    for _ in range(int(sys.argv[5])):
        p.produce(sys.argv[3], value=('v%d' % n).encode(), partition=0)
        n += 1
    p.commit_transaction(30)
`
  execFileSync(registry.python, ['-c', script, kafka.plaintext, unique('tx'), topic, String(transactions), String(each)], {stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000})
}

describe('consume --merge and count on Kafka', () => {
  it('--merge orders two topics by timestamp, ties by topic, partition, offset', async () => {
    const orders = unique('orders')
    const clicks = unique('clicks')
    await run(['topic', 'create', orders, '-p', '2'], {env})
    await run(['topic', 'create', clicks], {env})
    const T0 = 1_700_000_000_000
    await produceJson(orders, [
      {value: 'o0', timestamp: T0 + 10, partition: 0},
      {value: 'o1', timestamp: T0 + 30, partition: 0},
      {value: 'o3', timestamp: T0 + 20, partition: 1},
      {value: 'o4', timestamp: T0 + 30, partition: 1},
    ])
    await produceJson(clicks, [
      {value: 'c0', timestamp: T0 + 5},
      {value: 'c1', timestamp: T0 + 30},
    ])
    // The topic names sort clicks-... before orders-...: ties go by name, not by the order given.
    const merged = await run(['consume', orders, clicks, '--merge', '--format', '%v '], {env})
    expect(merged.code, merged.stderr).toBe(0)
    expect(merged.stdout.toString()).toBe('c0 o0 o3 c1 o1 o4 ')
    const windowed = await run(['consume', orders, clicks, '--merge', '--from', `@${T0 + 20}`, '-c', '2', '--format', '%v '], {env})
    expect(windowed.stdout.toString()).toBe('o3 c1 ')
  })

  it('--merge -f: a quiet topic holds the other back for --max-wait only', async () => {
    const busy = unique('busy')
    const quiet = unique('quiet')
    await run(['topic', 'create', busy], {env})
    await run(['topic', 'create', quiet], {env})
    const child = start(['consume', busy, quiet, '--merge', '-f', '--max-wait', '300ms'], {env})
    let seen = ''
    child.stdout!.on('data', (d: Buffer) => (seen += d.toString()))
    try {
      await produceJson(busy, [{value: 'b0'}, {value: 'b1'}])
      for (const started = Date.now(); seen !== 'b0\nb1\n'; await new Promise((resolve) => setTimeout(resolve, 50)))
        if (Date.now() - started > 30_000) throw new Error(`timed out; saw ${JSON.stringify(seen)}`)
    } finally {
      child.kill('SIGINT')
    }
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0)
  })

  it('count reads Kafka: transaction markers take offsets, the count is the records', async () => {
    const topic = unique('tx')
    await run(['topic', 'create', topic], {env})
    produceTransactions(topic, 3, 10)
    const described = JSON.parse((await run(['topic', 'describe', topic, '--json'], {env})).stdout.toString())
    // 30 records and 3 commit markers.
    expect(described.partition_info[0].end_offset).toBe(33)
    expect((await run(['count', topic], {env})).stdout.toString()).toBe('30\n')
    const json = JSON.parse((await run(['count', topic, '--by', 'partition', '--json'], {env})).stdout.toString())
    expect(json).toMatchObject({count: 30, buckets: [{partition: 0, count: 30}], read_records: 30})
    const consumed = await sh(`$bin consume ${topic} | wc -l`, {env})
    expect(consumed.stdout.toString().trim()).toBe('30')
    expect((await run(['count', topic, '--from', '-5'], {env})).stdout.toString()).toBe(`${(await sh(`$bin consume ${topic} --from -5 | wc -l`, {env})).stdout.toString().trim()}\n`)
  })

  it('reads are read committed: aborted transactions and one still open are left out; a group read to the end has no lag', async () => {
    const topic = unique('txmix')
    await run(['topic', 'create', topic], {env})
    const lags = async (group: string) => JSON.parse((await run(['group', 'describe', group, '--json'], {env})).stdout.toString()).map((p: {lag: number}) => p.lag)
    // committed (2), aborted (2), committed (1), then one left open until the Python process is told to end.
    const script = `
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'transactional.id': sys.argv[2]})
p.init_transactions(30)
def tx(values, commit):
    p.begin_transaction()
    for v in values: p.produce(sys.argv[3], value=v.encode(), partition=0)
    p.flush(30)
    if commit: p.commit_transaction(30)
    else: p.abort_transaction(30)
tx(['c1', 'c2'], True)
tx(['ABORTED-1', 'ABORTED-2'], False)
tx(['c3'], True)
p.begin_transaction()
p.produce(sys.argv[3], value=b'OPEN', partition=0)
p.flush(30)
print('open', flush=True)
sys.stdin.read()
p.abort_transaction(30)
`
    const producer = spawn(registry.python, ['-c', script, kafka.plaintext, unique('txmix'), topic], {stdio: ['pipe', 'pipe', 'inherit']})
    const closed = new Promise((resolve) => producer.on('close', resolve))
    try {
      await new Promise<void>((resolve, reject) => {
        producer.stdout!.on('data', (d: Buffer) => d.toString().includes('open') && resolve())
        producer.on('close', (code) => reject(new Error(`the transactional producer ended first (${code})`)))
      })
      // A bounded read ends at the last stable offset: it neither prints nor waits for the open transaction.
      expect((await run(['consume', topic], {env})).stdout.toString()).toBe('c1\nc2\nc3\n')
      expect((await run(['count', topic], {env})).stdout.toString()).toBe('3\n')
      expect((await run(['consume', topic, '-g', 'txg'], {env})).stdout.toString()).toBe('c1\nc2\nc3\n')
      expect(await lags('txg')).toEqual([0])
      const store = `file:${join(t.home, 'copy.db')}`
      const copied = await run(['pipe', topic, `${store}/copy`, '-g', 'txcopy'], {env})
      expect(copied.code, copied.stderr).toBe(0)
      expect((await run(['consume', 'copy', '-b', store], {env})).stdout.toString()).toBe('c1\nc2\nc3\n')
    } finally {
      producer.stdin!.end()
      await closed
    }
    // The open transaction aborted: a group read again to the end prints nothing and is past its marker.
    expect((await run(['consume', topic, '-g', 'txg'], {env})).stdout.toString()).toBe('')
    expect(await lags('txg')).toEqual([0])
    expect((await run(['consume', topic], {env})).stdout.toString()).toBe('c1\nc2\nc3\n')
  })

  it('count --by minute and --by key on Kafka, and an unknown topic as consume reports it', async () => {
    const topic = unique('keys')
    await run(['topic', 'create', topic, '-p', '2'], {env})
    const day = Date.UTC(2026, 0, 1)
    await produceJson(topic, Array.from({length: 12}, (_, i) => ({key: `k${i % 3}`, value: `v${i}`, timestamp: day + i * 20_000})))
    expect((await run(['count', topic, '--by', 'minute'], {env})).stdout.toString()).toBe(
      '2026-01-01T00:00Z\t3\n2026-01-01T00:01Z\t3\n2026-01-01T00:02Z\t3\n2026-01-01T00:03Z\t3\n',
    )
    expect((await run(['count', topic, '--by', 'key'], {env})).stdout.toString()).toBe('k0\t4\nk1\t4\nk2\t4\n')
    const missing = unique('missing')
    const counted = await run(['count', missing], {env})
    const consumed = await run(['consume', missing], {env})
    expect(counted.code).toBe(consumed.code)
    expect(counted.stderr).toMatch(/^spool: topic '.*' does not exist in kafka:\/\/.*\n$/)
  })
})
