import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {type AddressInfo, createServer} from 'node:net'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, inject, it} from 'vitest'
import {envelopes, ROOT, run, sh, start, tempHome, unique} from '../helpers/cli.js'

// spool's commands against a real Kafka broker, spawned as users run them. The tests where kcat and
// Kafka's own Java tools must read and write the same records are in interop.test.ts.
const kafka = inject('kafka')
const plaintext = `kafka://${kafka.plaintext}`
let t: ReturnType<typeof tempHome>
let env: NodeJS.ProcessEnv
let topic: string

beforeEach(() => {
  t = tempHome()
  env = {...t.env, SPOOL_BROKER: plaintext, SPOOL_CONFIG_HOME: join(t.home, 'config')}
  topic = unique('t')
})
afterEach(() => t.cleanup())

/**
 * A following command with one collector for its whole run (output that arrives between two waits is
 * not lost): `until` waits for a text in it, `stop` sends Ctrl-C and resolves with the exit status.
 */
function following(args: string[]) {
  const follower = start(args, {env})
  let seen = ''
  let errors = ''
  follower.stdout!.on('data', (d: Buffer) => (seen += d.toString()))
  follower.stderr!.on('data', (d: Buffer) => (errors += d.toString()))
  const closed = new Promise<number | null>((resolve) => follower.on('close', resolve))
  return {
    seen: () => seen,
    async until(text: string) {
      for (let i = 0; i < 400 && !seen.includes(text); i++) await new Promise((r) => setTimeout(r, 50))
      expect(seen, errors).toContain(text)
    },
    stop() {
      follower.kill('SIGINT')
      return closed
    },
  }
}

describe('spool against Kafka', () => {
  it('creates, lists, describes and deletes topics with partitions, replication factor and configs', async () => {
    const created = await run(['topic', 'create', topic, '--partitions', '3', '--retention', '2d', '--replication-factor', '1', '--config', 'cleanup.policy=delete', '--json'], {env})
    expect(created.code).toBe(0)
    expect(JSON.parse(created.stdout.toString())).toMatchObject({name: topic, partitions: 3, retention_ms: 172_800_000, replication_factor: 1})
    const list = JSON.parse((await run(['topic', 'list', '--json'], {env})).stdout.toString())
    expect(list.map((x: {name: string}) => x.name)).toContain(topic)
    expect(list.map((x: {name: string}) => x.name).some((n: string) => n.startsWith('__'))).toBe(false)
    const described = await run(['topic', 'describe', topic], {env})
    expect(described.stdout.toString()).toMatch(/Partitions:\s+3/)
    // Offsets, not records: Kafka's offsets leave gaps (compaction, transaction markers).
    expect(described.stdout.toString()).toMatch(new RegExp(`Offsets:\\s+0 \\(not a count of records: spool count ${topic}\\)`))
    expect(described.stdout.toString()).toMatch(/PARTITION\s+START\s+END\s+OFFSETS\s+SIZE/)
    expect((await run(['topic', 'list'], {env})).stdout.toString()).toMatch(/^TOPIC\s+PARTITIONS\s+OFFSETS\s+SIZE\s+RETENTION/)
    expect((await run(['topic', 'create', topic], {env})).stderr).toMatch(/^spool: topic '.*' already exists in kafka:\/\//)
    expect((await run(['topic', 'delete', topic, '--yes'], {env})).code).toBe(0)
    const gone = await run(['consume', topic], {env})
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/^spool: topic '.*' does not exist in kafka:\/\/.*\n$/)
  })

  it('reads positions: -N, +N, @time, --until, -c, several topics, -p', async () => {
    await run(['topic', 'create', topic, '--partitions', '2'], {env})
    const lines = Array.from({length: 20}, (_, i) => JSON.stringify({partition: i % 2, value: `v${i}`, timestamp: 1_700_000_000_000 + i * 1000}))
    await run(['produce', topic, '--input', 'json'], {env, input: lines.join('\n')})
    const values = async (args: string[]) => {
      const result = await run(['consume', topic, ...args], {env})
      expect({args, stderr: result.stderr, code: result.code}).toEqual({args, stderr: '', code: 0})
      return result.stdout.toString().trim().split('\n').filter(Boolean)
    }
    expect(await values(['-p', '0', '--from', '-2'])).toEqual(['v16', 'v18'])
    expect(await values(['-p', '1', '--from', '+8'])).toEqual(['v17', 'v19'])
    expect(await values(['-p', '0', '--from', `@${new Date(1_700_000_000_000 + 15_000).toISOString()}`])).toEqual(['v16', 'v18'])
    expect(await values(['-p', '0', '--from', '2', '--until', '4'])).toEqual(['v4', 'v6'])
    expect(await values(['-c', '3', '-p', '1'])).toEqual(['v1', 'v3', 'v5'])
    const other = unique('other')
    await run(['produce', other], {env, input: 'x\n'})
    const both = await run(['consume', topic, other, '--format', '%t %v\n'], {env})
    expect(both.stdout.toString().split('\n').filter(Boolean)).toHaveLength(21)
  })

  it('--key filters a scan: consume and replay return exactly the key\'s records; an absent key, none', async () => {
    await run(['topic', 'create', topic, '--partitions', '3'], {env})
    const input = Array.from({length: 300}, (_, i) => `k${i % 7}:v${i}`).join('\n')
    expect((await run(['produce', topic, '-K', ':'], {env, input})).code).toBe(0)
    // A record of k3 put where its key would not send it: a scan finds it all the same.
    expect((await run(['produce', topic, '-K', ':', '-p', '0'], {env, input: 'k3:pinned'})).code).toBe(0)
    const all = await envelopes([topic], env)
    const withKey = (...keys: string[]) => all.filter((r) => keys.includes(r.key))
    expect(new Set(withKey('k3').map((r) => r.partition)).size).toBe(2)
    const one = await run(['consume', topic, '--key', 'k3', '--json'], {env})
    expect(one).toMatchObject({code: 0, stderr: ''})
    expect(one.stdout.toString().split('\n').filter(Boolean).map((line) => JSON.parse(line))).toEqual(withKey('k3'))
    const two = await envelopes([topic], env, ['--key', 'k1', '--key', 'k3'])
    expect(two).toEqual(withKey('k1', 'k3'))
    const replayed = await run(['replay', topic, '--key', 'k5', '--speed', 'max'], {env})
    expect(replayed.stdout.toString().split('\n').filter(Boolean).sort()).toEqual(withKey('k5').map((r) => r.value).sort())
    const none = await run(['consume', topic, '--key', 'absent'], {env})
    expect(none).toMatchObject({code: 0, stderr: ''})
    expect(none.stdout.toString()).toBe('')
  })

  it('tail prints the last records, then follows', async () => {
    await run(['produce', topic], {env, input: 'one\ntwo\nthree\n'})
    const tail = start(['tail', topic, '-n', '2'], {env})
    let seen = ''
    tail.stdout!.on('data', (d: Buffer) => (seen += d.toString()))
    for (let i = 0; i < 400 && seen !== 'two\nthree\n'; i++) await new Promise((r) => setTimeout(r, 50))
    expect(seen).toBe('two\nthree\n')
    await run(['produce', topic], {env, input: 'four\n'})
    for (let i = 0; i < 400 && !seen.includes('four'); i++) await new Promise((r) => setTimeout(r, 50))
    tail.kill('SIGINT')
    expect(await new Promise((r) => tail.on('close', r))).toBe(0)
    expect(seen).toBe('two\nthree\nfour\n')
  })

  it('consume -f sees records another process produces, without joining a group', async () => {
    const groupNames = async () => JSON.parse((await run(['group', 'list', '--json'], {env})).stdout.toString()).map((g: {group: string}) => g.group)
    const groupsBefore = await groupNames()
    await run(['produce', topic], {env, input: 'first\n'})
    const follower = following(['consume', topic, '-f'])
    await follower.until('first\n')
    await run(['produce', topic], {env, input: 'second\n'})
    await follower.until('second\n')
    expect(await follower.stop()).toBe(0)
    // Reading without -g joined no group: the broker lists no group beyond those there before.
    expect(await groupNames()).toEqual(groupsBefore)
  })

  it('consume -f of a whole topic reads the partitions topic alter adds (from their metadata, every 5 s)', async () => {
    await run(['topic', 'create', topic, '--partitions', '1'], {env})
    await run(['produce', topic], {env, input: 'first\n'})
    const follower = following(['consume', topic, '-f'])
    await follower.until('first\n')
    expect((await run(['topic', 'alter', topic, '-p', '2'], {env})).code).toBe(0)
    expect((await run(['produce', topic, '-p', '1'], {env, input: 'on-the-new-partition\n'})).code).toBe(0)
    await follower.until('on-the-new-partition\n')
    expect(await follower.stop()).toBe(0)
    expect(follower.seen()).toBe('first\non-the-new-partition\n')
  })

  it('pipes local -> Kafka -> local and replays into Kafka, keeping records exactly', async () => {
    const local = {...env, SPOOL_BROKER: `file:${t.store}`}
    await run(['topic', 'create', 'orders', '--partitions', '2'], {env: local})
    await run(['produce', 'orders', '-K', ':', '-H', 'h=1'], {env: local, input: Array.from({length: 200}, (_, i) => `k${i}:v${i}`).join('\n')})
    const up = await run(['pipe', 'orders', `${plaintext}/${topic}`, '-g', 'up'], {env: local})
    expect(up.code, up.stderr).toBe(0)
    expect(up.stderr).toMatch(/copied 200 of 200 .*exactly-once/)
    const down = await run(['pipe', `${plaintext}/${topic}`, `file:${t.store}/back`], {env: local})
    expect(down.code, down.stderr).toBe(0)
    const content = (xs: Array<Record<string, any>>) => xs.map(({partition, offset, key, value, headers, timestamp}) => ({partition, offset, key, value, headers, timestamp}))
    // The copy into Kafka adds its source position as the last header (exactly once into Kafka).
    const back = await envelopes(['back'], local)
    expect(back.map((e) => e.headers.at(-1))).toEqual((await envelopes(['orders'], local)).map((e) => ({key: 'spool.source', value: `up/orders/${e.partition}/${e.offset}`})))
    expect(content(back.map((e) => ({...e, headers: e.headers.slice(0, -1)})))).toEqual(content(await envelopes(['orders'], local)))
    const replayed = unique('replayed')
    const replay = await run(['replay', 'orders', '--speed', 'max', '--to', `${plaintext}/${replayed}`], {env: local})
    expect(replay.code, replay.stderr).toBe(0)
    expect((await envelopes([replayed], env)).length).toBe(200)
  })

  it('one record into an existing topic is four requests on one connection: ApiVersions, Metadata with InitProducerId, Produce', async () => {
    await run(['topic', 'create', topic], {env})
    // bench/socket-trace.cjs logs each connect and each request's API key at exit.
    const traced = await run(['produce', topic], {env: {...env, NODE_OPTIONS: `--require ${join(ROOT, 'bench', 'socket-trace.cjs')}`}, input: 'x\n'})
    expect(traced.code).toBe(0)
    const lines = traced.stderr.split('\n')
    const requests = lines.flatMap((line) => /^[\d.]+ write#\d+ api (\d+) /.exec(line)?.[1] ?? []).map(Number)
    // 18 ApiVersions, 3 Metadata, 0 Produce; 22 InitProducerId goes beside the Metadata, and again while a
    // new cluster's coordinator is still loading.
    expect({connects: lines.filter((line) => / connect#/.test(line)).length, requests: requests.filter((api) => api !== 22)}).toEqual({connects: 1, requests: [18, 3, 0]})
    expect(requests.indexOf(22)).toBeGreaterThan(0)
    expect(requests.indexOf(22)).toBeLessThan(requests.indexOf(0))
    expect((await run(['consume', topic], {env})).stdout.toString()).toBe('x\n')
  })

  it('plain lines over many requests arrive exactly with --acks all, 1 and 0', async () => {
    // 24 requests of 512 KiB each: a produce's batches are laid out as Kafka records and sent from their
    // own buffers, refilled once acknowledged (with acks 0, sent as copies).
    const input = Array.from({length: 200_000}, (_, i) => `${i}:${'abcdefghij'.repeat(6)}`).join('\n') + '\n'
    for (const acks of ['all', '1', '0']) {
      const name = `${topic}-acks${acks}`
      await run(['topic', 'create', name], {env})
      const produced = await run(['produce', name, '--acks', acks], {env, input})
      expect(produced.code, produced.stderr).toBe(0)
      // Nothing acknowledges acks 0: follow until every record is there (a lost one would never come).
      const read = await run(['consume', name, '-f', '-c', '200000'], {env})
      expect(read.code, read.stderr).toBe(0)
      expect(read.stdout.toString() === input, `acks ${acks}`).toBe(true)
    }
  })

  it('keyed lines into Kafka (laid out as records while split) carry the keys the local store gives them', async () => {
    // Keys, no delimiter (a null key, or -k's), an empty key, a delimiter in the value, an empty line; a
    // multi-byte delimiter; over three partitions, where the key's murmur2 routes each record.
    const lines = ['a:1', 'nokey', ':emptykey', 'b::2', 'c:', '', ...Array.from({length: 3000}, (_, i) => (i % 5 === 0 ? `plain ${i}` : `k${i % 17}:v${i}`))]
    const cases: Array<[string[], string]> = [
      [['-K', ':'], `${lines.join('\n')}\n`],
      [['-K', ':', '-k', 'fixed'], `${lines.join('\n')}\n`],
      [['-K', '<>'], 'a<>1\nno<key\nb<>2<>x\n<>\n'],
    ]
    const local = {...env, SPOOL_BROKER: undefined}
    for (const [i, [flags, input]] of cases.entries()) {
      const name = `${topic}-${i}`
      await run(['topic', 'create', name, '-p', '3'], {env})
      await run(['topic', 'create', name, '-p', '3'], {env: local})
      expect((await run(['produce', name, ...flags], {env, input})).code).toBe(0)
      expect((await run(['produce', name, ...flags], {env: local, input})).code).toBe(0)
      const records = async (e: NodeJS.ProcessEnv) =>
        (await run(['consume', name, '--json'], {env: e})).stdout.toString().trim().split('\n').map((line) => {
          const {partition, offset, key, value} = JSON.parse(line)
          return {partition, offset, key, value}
        })
      const fromKafka = await records(env)
      const fromLocal = await records(local)
      expect(fromKafka.length, flags.join(' ')).toBe(input.split('\n').length - 1)
      // Every record with the same key and value; a keyed one on the same partition, in the same order
      // there. Records without a key go to whichever partition the sticky partitioner is on.
      const pairs = (list: typeof fromKafka) => list.map(({key, value}) => JSON.stringify([key, value])).sort()
      expect(pairs(fromKafka), flags.join(' ')).toEqual(pairs(fromLocal))
      const keyed = (list: typeof fromKafka) =>
        list
          .filter((r) => r.key !== null)
          .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
          .map(({partition, key, value}) => ({partition, key, value}))
      expect(keyed(fromKafka), flags.join(' ')).toEqual(keyed(fromLocal))
      expect(keyed(fromKafka).length).toBeGreaterThan(0)
    }
  })

  it('a produce the broker refuses says how many records were acknowledged before it', async () => {
    await run(['topic', 'create', topic, '-c', 'max.message.bytes=2000'], {env})
    const big = 'x'.repeat(5000)
    // The big record is written only once the first three are acknowledged (readable), so they are a batch
    // of their own however slowly the producer starts.
    const acknowledged = `until [ "$($bin consume ${topic} 2>/dev/null | wc -l)" -ge 3 ]; do sleep 0.2; done`
    const result = await sh(`(printf 'a\\nb\\nc\\n'; ${acknowledged}; echo ${big}; echo never) | $bin produce ${topic}`, {env})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^spool: .* refused .*a record batch is larger than it takes \(MESSAGE_TOO_LARGE\); 3 records were acknowledged by Kafka before the failure \(a record must fit the topic's max\.message\.bytes/)
    expect((await run(['consume', topic], {env})).stdout.toString()).toBe('a\nb\nc\n')
  })

  it('completion offers Kafka topic and group names', async () => {
    await run(['produce', topic], {env, input: 'a\n'})
    await run(['consume', topic, '-g', `${topic}-g`], {env})
    const topics = await run(['__complete', 'consume', topic.slice(0, -2)], {env})
    expect(topics.stdout.toString().split('\n')).toContain(topic)
    const groups = await run(['__complete', 'group', 'describe', ''], {env})
    expect(groups.stdout.toString().split('\n')).toContain(`${topic}-g`)
  })

  it('top --once shows Kafka topics and groups', async () => {
    await run(['produce', topic], {env, input: 'a\nb\nc\n'})
    await run(['consume', topic, '-g', `${topic}-g`, '-c', '1'], {env})
    const top = await run(['top', '--once', '--json'], {env})
    expect(top.code, top.stderr).toBe(0)
    const snapshot = JSON.parse(top.stdout.toString())
    expect(snapshot.topics.find((x: {name: string}) => x.name === topic)).toMatchObject({partitions: 1, records: 3})
    expect(snapshot.groups.find((g: {group: string}) => g.group === `${topic}-g`)).toMatchObject({lag: 2})
  })

  it('a broker that accepts connections but never answers fails within --timeout, with one line', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const {port} = silent.address() as AddressInfo
      const result = await run(['topic', 'list', '-b', `kafka://127.0.0.1:${port}`, '--timeout', '2s'], {env})
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(new RegExp(`^spool: cannot reach Kafka at 127\\.0\\.0\\.1:${port} .*\n$`))
    } finally {
      silent.close()
    }
    // A hang fails this test by its own timeout below.
  }, 30_000)

  it('pipe honours --timeout for kafka:// topics', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const {port} = silent.address() as AddressInfo
      // The default timeout is 10 s: a pipe still running after 9 s has ignored --timeout 2s. (The bound
      // is on this one command, so the Kafka commands after it do not eat into it on a busy machine.)
      const ignored = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('pipe ignored --timeout 2s (still running after 9 s)')), 9_000).unref())
      const result = await Promise.race([run(['pipe', `kafka://127.0.0.1:${port}/${topic}`, 'copy', '--timeout', '2s'], {env}), ignored])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(new RegExp(`^spool: cannot reach Kafka at 127\\.0\\.0\\.1:${port} .*\n$`))
    } finally {
      silent.close()
    }
  }, 30_000)

  it('pipe between two Kafka addresses opens no local store', async () => {
    await run(['produce', topic], {env, input: 'a\nb\n'})
    const copy = unique('copy')
    const piped = await run(['pipe', `${plaintext}/${topic}`, `${plaintext}/${copy}`], {env: {...env, SPOOL_BROKER: ''}})
    expect(piped.code).toBe(0)
    expect((await run(['consume', copy], {env})).stdout.toString()).toBe('a\nb\n')
    expect(existsSync(t.store)).toBe(false)
  })

  it('a broker that is down fails in bounded time with one line and exit 1', async () => {
    const result = await run(['consume', 'anything', '-b', 'kafka://127.0.0.1:1', '--timeout', '3s'], {env})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^spool: cannot reach Kafka at 127\.0\.0\.1:1 .*\n$/)
    // A hang fails this test by its own timeout below; how long the failure takes is a bench figure.
  }, 30_000)

  it('topic alter adds partitions (keyed produce then routes over them), sets any topic config, and refuses shrinking', async () => {
    await run(['topic', 'create', topic, '-p', '2'], {env})
    const keyed = (prefix: string) => Array.from({length: 30}, (_, i) => `user-${i}:${prefix}${i}`).join('\n') + '\n'
    await run(['produce', topic, '-K', ':'], {env, input: keyed('before-')})
    const byKey = async (name: string, prefix: string) =>
      Object.fromEntries(
        (await run(['consume', name, '--format', '%k %p %v\n'], {env})).stdout
          .toString()
          .trim()
          .split('\n')
          .map((l) => l.split(' '))
          .filter(([, , v]) => v!.startsWith(prefix))
          .map(([k, p]) => [k, p]),
      )
    const before = await byKey(topic, 'before-')
    const altered = await run(['topic', 'alter', topic, '-p', '4', '--retention', '3d', '-c', 'cleanup.policy=compact,delete', '--json'], {env})
    expect(altered.code).toBe(0)
    expect(JSON.parse(altered.stdout.toString())).toMatchObject({name: topic, partitions: 4, retention_ms: 259_200_000})
    expect(await byKey(topic, 'before-')).toEqual(before)
    await run(['produce', topic, '-K', ':'], {env, input: keyed('after-')})
    const fresh = unique('fresh')
    await run(['topic', 'create', fresh, '-p', '4'], {env})
    await run(['produce', fresh, '-K', ':'], {env, input: keyed('after-')})
    expect(await byKey(topic, 'after-')).toEqual(await byKey(fresh, 'after-'))
    // The config reached the broker: its own description of the topic says so.
    const {Admin} = await import('@platformatic/kafka')
    const admin = new Admin({clientId: 'spool-test', bootstrapBrokers: [kafka.plaintext]})
    try {
      const described = await admin.describeConfigs({resources: [{resourceType: 2, resourceName: topic, configurationKeys: ['cleanup.policy']}]})
      expect(described[0]!.configs.find((c) => c.name === 'cleanup.policy')?.value).toBe('compact,delete')
    } finally {
      await admin.close()
    }
    // forever takes the retention off again (Kafka's -1).
    const forever = await run(['topic', 'alter', topic, '--retention', 'forever', '--json'], {env})
    expect(forever.code, forever.stderr).toBe(0)
    expect(JSON.parse(forever.stdout.toString())).toMatchObject({name: topic, retention_ms: null})
    const fewer = await run(['topic', 'alter', topic, '-p', '3'], {env})
    expect([fewer.code, fewer.stderr]).toEqual([2, `spool: topic '${topic}' has 4 partitions; partitions cannot be removed, so -p 3 is refused (partitions can only be added: -p 5 or more)\n`])
    const bad = await run(['topic', 'alter', topic, '-c', 'no.such.config=1'], {env})
    expect(bad.code).toBe(2)
    expect(bad.stderr.split('\n')).toHaveLength(2)
    expect(bad.stderr).toMatch(/refused the configs no\.such\.config=1/)
    // topic create says it the same way (it printed Kafka's bare INVALID_CONFIG).
    const badCreate = await run(['topic', 'create', unique('badcfg'), '-c', 'no.such.config=1'], {env})
    expect([badCreate.code, badCreate.stderr.split('\n').length]).toEqual([2, 2])
    expect(badCreate.stderr).toMatch(/refused the configs no\.such\.config=1 for '.*' \(check the names and values/)
  }, 180_000)

  it('consume --filter -c and tail -c --filter stop after the records that pass', async () => {
    await run(['topic', 'create', topic, '-p', '3'], {env})
    await run(['produce', topic, '-K', ':'], {env, input: Array.from({length: 60}, (_, i) => `k${i}:${JSON.stringify({n: i})}`).join('\n') + '\n'})
    const consumed = await run(['consume', topic, '--filter', 'r.json.n % 10 === 0', '--format', '%v\n'], {env})
    expect(consumed.code).toBe(0)
    expect(consumed.stdout.toString().trim().split('\n').map((l) => JSON.parse(l).n).sort((a, b) => a - b)).toEqual([0, 10, 20, 30, 40, 50])
    const counted = await run(['consume', topic, '--filter', 'r.json.n % 10 === 0', '-c', '2'], {env})
    expect(counted.stdout.toString().trim().split('\n')).toHaveLength(2)
    await run(['produce', topic], {env, input: 'old-hit\n'})
    const tail = start(['tail', topic, '-n', '1', '-c', '2', '--filter', 'r.value.includes("hit")'], {env})
    let seen = ''
    tail.stdout!.on('data', (d: Buffer) => (seen += d.toString()))
    const closed = new Promise((resolve) => tail.on('close', resolve))
    // The window (the newest passing record) is printed once the place to follow from is fixed.
    for (let i = 0; i < 400 && !seen.includes('old-hit\n'); i++) await new Promise((r) => setTimeout(r, 50))
    // One produce of keyless records is one batch on one partition: their order is kept.
    await run(['produce', topic], {env, input: 'miss\nhit-1\nmiss\nhit-2\nhit-3\n'})
    expect(await closed).toBe(0)
    expect(seen).toBe('old-hit\nhit-1\nhit-2\n')
  }, 180_000)

  it('produce --rate paces into Kafka: records spread over many instants, all stored in order', async () => {
    const input = Array.from({length: 400}, (_, i) => String(i)).join('\n') + '\n'
    const produced = await run(['produce', topic, '--rate', '2000/s', '--burst', '20'], {env, input})
    expect(produced.code).toBe(0)
    const lines = (await run(['consume', topic, '--format', '%T %v\n'], {env})).stdout.toString().trim().split('\n')
    expect(lines.map((l) => l.split(' ')[1])).toEqual(input.trim().split('\n'))
    const perInstant = new Map<string, number>()
    for (const line of lines) perInstant.set(line.split(' ')[0]!, (perInstant.get(line.split(' ')[0]!) ?? 0) + 1)
    // The first burst at once, then slices of at most 20: many instants (a low bound, for a busy machine).
    expect([...perInstant.values()][0]).toBe(20)
    expect(perInstant.size).toBeGreaterThanOrEqual(8)
  }, 180_000)
})
