import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, start, tempHome} from '../helpers/cli.js'

// spool topic alter on the local store, through the built CLI and real SQLite files.

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const spool = (args: string[], input?: string) => run(args, {env: t.env, input})
const keyed = (prefix: string, n: number) => Array.from({length: n}, (_, i) => `user-${i}:${prefix}${i}`).join('\n') + '\n'

/** Resolves once `done` holds (checked every 20 ms); the test's own timeout bounds it. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 20))
}

/** key -> partition of the records of a topic whose values start with `prefix`. */
async function partitionsByKey(topic: string, prefix: string): Promise<Record<string, string>> {
  const out = await spool(['consume', topic, '--format', '%k %p %v\\n'])
  return Object.fromEntries(
    out.stdout
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '))
      .filter(([, , value]) => value!.startsWith(prefix))
      .map(([key, partition]) => [key, partition]),
  )
}

describe('spool topic alter', () => {
  it('-p adds partitions: records stay where they were; keyed produce afterwards routes over the new count', async () => {
    await spool(['topic', 'create', 'users', '-p', '2'])
    await spool(['produce', 'users', '-K', ':'], keyed('before-', 40))
    const before = await partitionsByKey('users', 'before-')
    const altered = await spool(['topic', 'alter', 'users', '-p', '5', '--json'])
    expect(altered.code).toBe(0)
    const described = await spool(['topic', 'describe', 'users', '--json'])
    expect(JSON.parse(altered.stdout.toString())).toEqual(JSON.parse(described.stdout.toString()))
    expect(JSON.parse(altered.stdout.toString()).partitions).toBe(5)
    // The records written before did not move.
    expect(await partitionsByKey('users', 'before-')).toEqual(before)
    // New keyed records land where a topic created with 5 partitions puts them (murmur2 over 5).
    await spool(['produce', 'users', '-K', ':'], keyed('after-', 40))
    await spool(['topic', 'create', 'fresh', '-p', '5'])
    await spool(['produce', 'fresh', '-K', ':'], keyed('after-', 40))
    const after = await partitionsByKey('users', 'after-')
    expect(after).toEqual(await partitionsByKey('fresh', 'after-'))
    expect(new Set(Object.values(after)).size).toBeGreaterThan(2)
  })

  it('is safe while another process produces and another follows', async () => {
    await spool(['topic', 'create', 'busy', '-p', '1'])
    const follower = start(['consume', 'busy', '-f'], {env: t.env})
    const producer = start(['produce', 'busy'], {env: t.env})
    let seen = ''
    follower.stdout!.on('data', (d: Buffer) => (seen += d.toString()))
    for (let i = 0; i < 500; i++) producer.stdin!.write(`line-${i}\n`)
    // Both processes are running (the producer has read the partition count) before the alter.
    await until(() => seen.includes('line-499\n'))
    const altered = await spool(['topic', 'alter', 'busy', '-p', '3', '--retention', '7d'])
    expect(altered.code).toBe(0)
    for (let i = 500; i < 1000; i++) producer.stdin!.write(`line-${i}\n`)
    producer.stdin!.end()
    expect(await new Promise((resolve) => producer.on('close', resolve))).toBe(0)
    // A produce already running keeps the count it started with: the rest go to partition 0 too.
    await until(() => seen.includes('line-999\n'))
    follower.kill('SIGINT')
    expect(seen.split('\n').filter(Boolean)).toEqual(Array.from({length: 1000}, (_, i) => `line-${i}`))
    const info = JSON.parse((await spool(['topic', 'describe', 'busy', '--json'])).stdout.toString())
    expect([info.partitions, info.records, info.retention_ms]).toEqual([3, 1000, 604_800_000])
  })

  it('--retention and --retention-bytes change only what they name; -c takes retention.ms and retention.bytes', async () => {
    await spool(['topic', 'create', 'kept', '--retention', '1h'])
    const bytes = JSON.parse((await spool(['topic', 'alter', 'kept', '--retention-bytes', '1MiB', '--json'])).stdout.toString())
    expect([bytes.retention_ms, bytes.retention_bytes]).toEqual([3_600_000, 1_048_576])
    const configured = JSON.parse((await spool(['topic', 'alter', 'kept', '-c', 'retention.ms=60000', '--json'])).stdout.toString())
    expect([configured.retention_ms, configured.retention_bytes]).toEqual([60_000, 1_048_576])
  })

  it('forever (or -1, as Kafka writes it) takes a retention off; --retention-bytes 0 is refused before it deletes anything', async () => {
    await spool(['topic', 'create', 'limited', '--retention', '1d', '--retention-bytes', '1MiB'])
    const json = async (args: string[]) => {
      const result = await spool(['topic', 'alter', 'limited', ...args, '--json'])
      expect(result.code, result.stderr).toBe(0)
      const info = JSON.parse(result.stdout.toString())
      return [info.retention_ms, info.retention_bytes]
    }
    expect(await json(['--retention', 'forever'])).toEqual([null, 1_048_576])
    expect(await json(['--retention-bytes', 'forever'])).toEqual([null, null])
    expect(await json(['-c', 'retention.ms=60000', '-c', 'retention.bytes=2048'])).toEqual([60_000, 2048])
    expect(await json(['-c', 'retention.ms=-1', '--retention-bytes=-1'])).toEqual([null, null])
    await spool(['produce', 'limited'], '1\n2\n3\n')
    for (const args of [['--retention-bytes', '0'], ['-c', 'retention.bytes=0']]) {
      const refused = await spool(['topic', 'alter', 'limited', ...args])
      expect(refused.code).toBe(2)
      expect(refused.stderr).toMatch(/^spool: .*0 would delete every record as soon as it is written \(.*\)\n$/)
    }
    expect((await spool(['count', 'limited'])).stdout.toString()).toBe('3\n')
    const created = JSON.parse((await spool(['topic', 'create', 'kept-forever', '--retention', 'forever', '--json'])).stdout.toString())
    expect([created.retention_ms, created.retention_bytes]).toEqual([null, null])
  })

  it('refuses fewer or as many partitions, an unknown config, nothing to change and an unknown topic, each in one line', async () => {
    await spool(['topic', 'create', 'three', '-p', '3'])
    const same = await spool(['topic', 'alter', 'three', '-p', '3'])
    expect([same.code, same.stderr]).toEqual([2, "spool: topic 'three' already has 3 partitions (partitions can only be added: -p 4 or more)\n"])
    const fewer = await spool(['topic', 'alter', 'three', '-p', '2'])
    expect([fewer.code, fewer.stderr]).toEqual([2, "spool: topic 'three' has 3 partitions; partitions cannot be removed, so -p 2 is refused (partitions can only be added: -p 4 or more)\n"])
    const config = await spool(['topic', 'alter', 'three', '-c', 'cleanup.policy=compact'])
    expect(config.code).toBe(2)
    expect(config.stderr).toBe("spool: the local store has no topic config 'cleanup.policy' (it knows retention.ms and retention.bytes; other configs are Kafka's, with -b kafka://host:port)\n")
    const nothing = await spool(['topic', 'alter', 'three'])
    expect(nothing.code).toBe(2)
    const unknown = await spool(['topic', 'alter', 'nope', '-p', '2'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^spool: topic 'nope' does not exist in .*\n$/)
    expect(JSON.parse((await spool(['topic', 'describe', 'three', '--json'])).stdout.toString()).partitions).toBe(3)
  })
})
