import {execFileSync, spawn} from 'node:child_process'
import {statSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, inject, it} from 'vitest'
// @ts-expect-error: a plain ESM script shared with the bench, without type declarations
import {consoleProducerClass} from '../../scripts/kafka-broker.mjs'
import {envelopes, run, sh, tempHome, unique} from '../helpers/cli.js'

// spool against a real Kafka broker with the peers that must read and write the same records: kcat,
// Kafka's own Java tools, each compression codec, SASL and TLS. The kafka39 project runs this file
// (with the contract suite) against Kafka 3.9 too: these are what a broker's line could break.
const kafka = inject('kafka')
const plaintext = `kafka://${kafka.plaintext}`
let t: ReturnType<typeof tempHome>
let env: NodeJS.ProcessEnv
let topic: string

/** Runs one of Kafka's own Java tools from the broker's jars (their log lines go nowhere). */
function javaTool(mainClass: string, args: string[], input?: string): string {
  return execFileSync('java', ['-Xmx256m', '-Dlog4j2.level=error', '-cp', `${kafka.lib}/*`, mainClass, ...args], {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'ignore'],
    timeout: 60_000,
  })
}

beforeEach(() => {
  t = tempHome()
  env = {...t.env, SPOOL_BROKER: plaintext, SPOOL_CONFIG_HOME: join(t.home, 'config')}
  topic = unique('t')
})
afterEach(() => t.cleanup())

describe('spool and its peers on Kafka', () => {
  it('produces and consumes keys, values, headers (duplicates and order kept), partitions and timestamps exactly', async () => {
    await run(['topic', 'create', topic, '--partitions', '3'], {env})
    const input = [
      {partition: 0, key: 'a', value: 'one', timestamp: 1_700_000_000_000, headers: [{key: 'h', value: '1'}, {key: 'h', value: '2'}, {key: 'n', value: null}]},
      {partition: 1, key: null, value: null, timestamp: 1_700_000_000_001, headers: []},
      {partition: 2, key: '', value: '', timestamp: 1_700_000_000_002, headers: []},
      {partition: 2, key: '/wAK', key_encoding: 'base64', value: 'AP8KDQ==', value_encoding: 'base64', timestamp: 1_700_000_000_003, headers: [{key: 'bin', value: '/w==', value_encoding: 'base64'}]},
    ]
    const produced = await run(['produce', topic, '--input', 'json'], {env, input: input.map((r) => JSON.stringify(r)).join('\n')})
    expect(produced.code).toBe(0)
    const out = await envelopes([topic], env)
    const byPartition = (xs: Array<Record<string, any>>) => [...xs].sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    expect(byPartition(out).map(({topic: _t, offset: _o, ...rest}) => rest)).toEqual(input)
    // The exact round trip: consume --json | produce --input json makes an identical copy.
    const copy = unique('copy')
    await run(['topic', 'create', copy, '--partitions', '3'], {env})
    const piped = await sh(`$bin consume ${topic} --json | $bin produce ${copy} --input json`, {env})
    expect(piped.stderr).toBe('')
    expect(piped.code).toBe(0)
    const strip = (xs: Array<Record<string, any>>) => byPartition(xs).map(({topic: _t, ...rest}) => rest)
    expect(strip(await envelopes([copy], env))).toEqual(strip(out))
  })

  it('groups: consume -g commits, describe shows lag, reset plans then executes, delete forgets', async () => {
    await run(['produce', topic], {env, input: Array.from({length: 10}, (_, i) => `r${i}`).join('\n')})
    const group = unique('g')
    expect((await run(['consume', topic, '-g', group, '-c', '4'], {env})).stdout.toString()).toBe('r0\nr1\nr2\nr3\n')
    const described = JSON.parse((await run(['group', 'describe', group, '--json'], {env})).stdout.toString())
    expect(described).toEqual([{topic, partition: 0, committed: 4, end: 10, lag: 6}])
    expect((await run(['consume', topic, '-g', group, '-c', '2'], {env})).stdout.toString()).toBe('r4\nr5\n')
    const plan = await run(['group', 'reset', group, '--to', 'earliest'], {env})
    expect(plan.code).toBe(0)
    expect(JSON.parse((await run(['group', 'describe', group, '--json'], {env})).stdout.toString())[0].committed).toBe(6)
    expect((await run(['group', 'reset', group, '--to', 'earliest', '--execute'], {env})).code).toBe(0)
    expect(JSON.parse((await run(['group', 'describe', group, '--json'], {env})).stdout.toString())[0].committed).toBe(0)
    expect((await run(['group', 'delete', group], {env})).code).toBe(0)
    expect(JSON.parse((await run(['group', 'list', '--json'], {env})).stdout.toString()).map((g: {group: string}) => g.group)).not.toContain(group)
  })

  it('a group another consumer is a member of (kcat -G) is refused before anything is read or printed', async () => {
    await run(['produce', topic], {env, input: 'r0\nr1\n'})
    const group = unique('busy')
    const member = spawn('kcat', ['-b', kafka.plaintext, '-G', group, topic, '-o', 'end'], {stdio: ['ignore', 'ignore', 'pipe']})
    try {
      // kcat has joined once it says the group gave it its partition.
      let said = ''
      await new Promise<void>((resolve, reject) => {
        member.stderr!.on('data', (d: Buffer) => (said += d.toString()) && /assigned: /.test(said) && resolve())
        member.on('close', () => reject(new Error(`kcat ended before it joined: ${said}`)))
        setTimeout(() => reject(new Error(`kcat did not join within 30 s: ${said}`)), 30_000).unref()
      })
      for (const args of [['consume', topic, '-g', group], ['tail', topic, '-g', group]]) {
        const refused = await run(args, {env})
        expect(refused.code, args.join(' ')).toBe(1)
        expect(refused.stdout.toString()).toBe('')
        expect(refused.stderr).toMatch(new RegExp(`^spool: consumer group '${group}' has active members in .*; spool commits only for groups nobody else is consuming with \\(stop the other consumers`))
      }
    } finally {
      member.kill('SIGTERM')
      await new Promise((r) => member.on('close', r))
    }
  })

  it('kcat reads exactly what spool produced, and spool reads exactly what kcat produced', async () => {
    await run(['topic', 'create', topic, '--partitions', '3'], {env})
    await run(['produce', topic, '-K', ':', '-H', 'x=1', '-H', 'x=2'], {env, input: 'alpha:one\nbeta:two\ngamma:three\n'})
    const spoolView = (await run(['consume', topic, '--format', '%p %o %k %v %T\n'], {env})).stdout.toString().trim().split('\n').sort()
    const kcatView = execFileSync('kcat', ['-C', '-b', kafka.plaintext, '-t', topic, '-e', '-q', '-f', '%p %o %k %s %T %h\n'], {encoding: 'utf8'}).trim().split('\n').sort()
    expect(kcatView).toEqual(spoolView.map((line) => `${line} x=1,x=2`))

    const fromKcat = unique('kcat')
    await run(['topic', 'create', fromKcat], {env})
    execFileSync('kcat', ['-P', '-b', kafka.plaintext, '-t', fromKcat, '-K', ':', '-H', 'h=v', '-p', '0'], {input: 'k1:v1\nk2:v2\n'})
    const read = await envelopes([fromKcat], env)
    expect(read.map(({partition, offset, key, value, headers}) => ({partition, offset, key, value, headers}))).toEqual([
      {partition: 0, offset: 0, key: 'k1', value: 'v1', headers: [{key: 'h', value: 'v'}]},
      {partition: 0, offset: 1, key: 'k2', value: 'v2', headers: [{key: 'h', value: 'v'}]},
    ])
    const kcatTimes = execFileSync('kcat', ['-C', '-b', kafka.plaintext, '-t', fromKcat, '-e', '-q', '-f', '%T\n'], {encoding: 'utf8'}).trim().split('\n').map(Number)
    expect(read.map((r) => r.timestamp)).toEqual(kcatTimes)
  })

  it("Kafka's console consumer reads spool's records, and a key lands on the partition Kafka's Java producer picks", async () => {
    await run(['topic', 'create', topic, '--partitions', '7'], {env})
    const keys = Array.from({length: 30}, (_, i) => `key-${i * 7919}`)
    await run(['produce', topic, '-K', ':', '-H', 'src=spool'], {env, input: keys.map((k) => `${k}:${k.toUpperCase()}`).join('\n')})
    const consoleOut = javaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server', kafka.plaintext, '--topic', topic, '--from-beginning', '--max-messages', String(keys.length), '--timeout-ms', '30000',
      '--property', 'print.timestamp=true', '--property', 'print.key=true', '--property', 'print.partition=true', '--property', 'print.headers=true', '--property', 'key.separator=|',
    ])
    const spoolSide = (await run(['consume', topic, '--format', 'CreateTime:%T|Partition:%p|src:spool|%k|%v\n'], {env})).stdout.toString().trim().split('\n').sort()
    expect(consoleOut.trim().split('\n').map((l) => l.replace(/\t/g, '|')).sort()).toEqual(spoolSide)

    // The same keys through Kafka's console producer (the Java client's default partitioner), with zstd
    // batches from Java's zstd-jni that spool must read.
    const javaTopic = unique('java')
    await run(['topic', 'create', javaTopic, '--partitions', '7'], {env})
    javaTool(consoleProducerClass(kafka.version), ['--bootstrap-server', kafka.plaintext, '--topic', javaTopic, '--compression-codec', 'zstd', '--property', 'parse.key=true', '--property', 'key.separator=:'], keys.map((k) => `${k}:v`).join('\n') + '\n')
    const partitionsOf = async (name: string) =>
      Object.fromEntries((await run(['consume', name, '--format', '%k %p\n'], {env})).stdout.toString().trim().split('\n').map((l) => l.split(' ')))
    expect(await partitionsOf(javaTopic)).toEqual(await partitionsOf(topic))
  })

  it('compresses with gzip, snappy, lz4 and zstd, and reads each back (kcat too)', async () => {
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
      const name = unique(codec)
      const lines = Array.from({length: 500}, (_, i) => `${codec} record ${i} ${'x'.repeat(i % 50)}`)
      const produced = await run(['produce', name, '--compression', codec], {env, input: lines.join('\n')})
      expect(produced.code, produced.stderr).toBe(0)
      expect((await run(['consume', name], {env})).stdout.toString()).toBe(`${lines.join('\n')}\n`)
      expect(execFileSync('kcat', ['-C', '-b', kafka.plaintext, '-t', name, '-e', '-q'], {encoding: 'utf8'})).toBe(`${lines.join('\n')}\n`)
    }
    // zstd written by librdkafka (kcat) is read by spool on Node 20, whose zlib has no zstd.
    const fromKcat = unique('kzstd')
    await run(['topic', 'create', fromKcat], {env})
    execFileSync('kcat', ['-P', '-b', kafka.plaintext, '-t', fromKcat, '-z', 'zstd'], {input: 'z1\nz2\n'})
    expect((await run(['consume', fromKcat], {env})).stdout.toString()).toBe('z1\nz2\n')
  })

  it('authenticates with SASL PLAIN and SCRAM through a context or the environment; a wrong password says so', async () => {
    const sasl = `kafka://${kafka.sasl}`
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const name = mechanism.toLowerCase()
      const added = await run(['context', 'add', name, '-b', sasl, '--sasl-mechanism', mechanism, '--username', 'alice', '--password-stdin'], {env, input: `${kafka.users.alice}\n`})
      expect(added.code, added.stderr).toBe(0)
      const produced = await run(['produce', topic, '--context', name], {env, input: `via ${mechanism}\n`})
      expect(produced.code, produced.stderr).toBe(0)
    }
    expect((await run(['consume', topic], {env})).stdout.toString()).toBe('via PLAIN\nvia SCRAM-SHA-256\nvia SCRAM-SHA-512\n')
    const file = join(env.SPOOL_CONFIG_HOME!, 'contexts.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const listed = await run(['context', 'list', '--json', '--debug'], {env})
    expect(listed.stdout.toString()).not.toContain(kafka.users.alice)

    const viaEnv = await run(['consume', topic, '-b', sasl, '-c', '1'], {env: {...env, SPOOL_SASL_MECHANISM: 'SCRAM-SHA-256', SPOOL_SASL_USERNAME: 'alice', SPOOL_SASL_PASSWORD: kafka.users.alice}})
    expect(viaEnv.stdout.toString()).toBe('via PLAIN\n')
    const wrong = await run(['topic', 'list', '-b', sasl, '--debug'], {env: {...env, SPOOL_SASL_MECHANISM: 'SCRAM-SHA-512', SPOOL_SASL_USERNAME: 'alice', SPOOL_SASL_PASSWORD: 'not-the-password'}})
    expect(wrong.code).toBe(1)
    expect(wrong.stderr.split('\n')[0]).toMatch(/^spool: authentication to kafka:\/\/.* failed/)
    expect(wrong.stderr).not.toContain('not-the-password')
    // No credentials at all: the SASL listener closes the connection, and the line says what it may want.
    const none = await run(['topic', 'list', '-b', sasl, '--timeout', '3s'], {env})
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^spool: cannot reach Kafka at .* \(the broker closed the connection: .*want SASL \(SPOOL_SASL_MECHANISM.*or TLS \(--tls\)\?\)\n$/)
  })

  it('TLS: verifies the broker certificate and its host name, presents a client certificate', async () => {
    const {ca, cert, key} = kafka.certificates
    const port = kafka.tls.split(':')[1]
    const added = await run(['context', 'add', 'secure', '-b', `kafka://${kafka.tls}`, '--tls-ca', ca, '--tls-cert', cert, '--tls-key', key], {env})
    expect(added.code, added.stderr).toBe(0)
    expect((await run(['produce', topic, '--context', 'secure'], {env, input: 'over tls\n'})).code).toBe(0)
    expect((await run(['consume', topic, '--context', 'secure'], {env})).stdout.toString()).toBe('over tls\n')
    // The certificate names localhost only: the same broker by IP fails host name verification.
    await run(['context', 'add', 'by-ip', '-b', `kafka://127.0.0.1:${port}`, '--tls-ca', ca, '--tls-cert', cert, '--tls-key', key], {env})
    const byIp = await run(['topic', 'list', '--context', 'by-ip'], {env})
    expect(byIp.code).toBe(1)
    expect(byIp.stderr).toMatch(/^spool: TLS with 127\.0\.0\.1:\d+ failed: Hostname\/IP does not match/)
    // Without the CA the broker's certificate is not trusted.
    await run(['context', 'add', 'no-ca', '-b', `kafka://${kafka.tls}`, '--tls', '--tls-cert', cert, '--tls-key', key], {env})
    expect((await run(['topic', 'list', '--context', 'no-ca'], {env})).stderr).toMatch(/^spool: TLS with localhost:\d+ failed: unable to verify/)
    // Without a client certificate the broker (ssl.client.auth=required) hangs up.
    await run(['context', 'add', 'no-cert', '-b', `kafka://${kafka.tls}`, '--tls-ca', ca], {env})
    expect((await run(['topic', 'list', '--context', 'no-cert'], {env})).stderr).toMatch(/client certificate/)
  })
})
