import {join} from 'node:path'
import {readFileSync, writeFileSync} from 'node:fs'
import {afterEach, beforeEach, describe, expect, inject, it} from 'vitest'
import {run, tempHome, unique} from '../helpers/cli.js'
import {exactLines, fixtureLines, framing, kcatRaw, peerConsume, peerCreateTopic, peerProduce, type PeerSides, parseExact, schemaFixture} from '../helpers/registry-peer.js'
// @ts-expect-error: a plain ESM script shared with .ci/run, without type declarations
import {startRegistry} from '../../scripts/schema-registry.mjs'

// spool and Confluent's own Python client (its Avro, Protobuf and JSON Schema serializers) against a real
// Confluent-compatible registry (Apicurio, /apis/ccompat/v7) and the test broker: each reads exactly
// what the other wrote, keys and values.

const kafka = inject('kafka')
const registry = inject('registry')
const plaintext = `kafka://${kafka.plaintext}`

let t: ReturnType<typeof tempHome>
let env: NodeJS.ProcessEnv
beforeEach(() => {
  t = tempHome()
  env = {...t.env, SPOOL_BROKER: plaintext, SPOOL_REGISTRY: registry.url, SPOOL_CONFIG_HOME: join(t.home, 'config')}
})
afterEach(() => t.cleanup())

interface Case {
  format: string
  lines: string
  peer: PeerSides
  /** spool produce's schema flags for the same schemas. */
  spool: string[]
}

const CASES: Case[] = [
  {
    format: 'avro',
    lines: 'order.avro.jsonl',
    peer: {valueFormat: 'avro', valueSchema: schemaFixture('order.avsc'), keyFormat: 'avro', keySchema: schemaFixture('order-key.avsc')},
    spool: ['--value-schema', schemaFixture('order.avsc'), '--key-schema', schemaFixture('order-key.avsc')],
  },
  {
    format: 'json',
    lines: 'order.json.jsonl',
    peer: {valueFormat: 'json', valueSchema: schemaFixture('order.schema.json'), keyFormat: 'json', keySchema: schemaFixture('order-key.schema.json')},
    spool: ['--value-schema', schemaFixture('order.schema.json'), '--key-schema', schemaFixture('order-key.schema.json')],
  },
  {
    format: 'protobuf',
    lines: 'order.proto.jsonl',
    peer: {valueFormat: 'protobuf', valueSchema: schemaFixture('order.proto'), message: 'Order', keyFormat: 'protobuf', keySchema: schemaFixture('order.proto'), keyMessage: 'OrderKey'},
    spool: ['--value-schema', schemaFixture('order.proto'), '--value-message', 'Order', '--key-schema', schemaFixture('order.proto'), '--key-message', 'spool.test.OrderKey'],
  },
]

/** {key, value} of each line of `consume --decode --json`, numbers beyond 2^53 kept exact. */
function decodedPairs(stdout: Buffer): Array<{key: unknown; value: unknown}> {
  return exactLines(stdout.toString()).map((envelope: {key: unknown; value: unknown}) => ({key: envelope.key, value: envelope.value}))
}

describe('schemas: spool and Confluent\'s Python client, through a registry', () => {
  for (const c of CASES) {
    it(`${c.format}: records the Confluent serializers wrote decode in spool to exactly the values written`, async () => {
      const topic = unique(`sr-in-${c.format}`)
      await peerCreateTopic(topic)
      await peerProduce(topic, {...c.peer, envelope: true}, readFileSync(schemaFixture(c.lines), 'utf8'))
      const consumed = await run(['consume', topic, '--decode', '--json'], {env})
      expect(consumed.stderr).toBe('')
      expect(consumed.code).toBe(0)
      expect(decodedPairs(consumed.stdout)).toEqual(fixtureLines(c.lines))
      const schemas = exactLines(consumed.stdout.toString()).map((e: {value_schema: {type: string}; key_schema: {type: string}}) => [e.key_schema.type, e.value_schema.type])
      expect(new Set(schemas.flat())).toEqual(new Set([c.format === 'json' ? 'JSON' : c.format.toUpperCase()]))
    })

    it(`${c.format}: records spool wrote read back through the Confluent deserializers to exactly the values given`, async () => {
      const topic = unique(`sr-out-${c.format}`)
      const produced = await run(['produce', topic, '--input', 'json', ...c.spool], {env, input: readFileSync(schemaFixture(c.lines))})
      expect(produced.code, produced.stderr).toBe(0)
      const read = await peerConsume(topic, {...c.peer, count: 3})
      expect(exactLines(read)).toEqual(fixtureLines(c.lines))
      // The schemas are registered under TOPIC-value and TOPIC-key, and the records name them.
      const raw = kcatRaw(topic)
      const subjects = JSON.parse((await run(['schema', 'list', '--json'], {env})).stdout.toString()) as Array<{subject: string; id: number}>
      const valueId = subjects.find((s) => s.subject === `${topic}-value`)!.id
      expect(raw.map((r) => framing(r.value!))).toEqual(raw.map(() => ({magic: 0, schemaId: valueId})))
    })
  }

  it('replay decodes Kafka records too', async () => {
    const topic = unique('sr-tail')
    await run(['produce', topic, '--value-schema', schemaFixture('order-key.avsc')], {env, input: '{"order_id":"a"}\n{"order_id":"b"}\n'})
    const replayed = await run(['replay', topic, '--speed', 'max', '--decode'], {env})
    expect(replayed.stdout.toString()).toBe('{"order_id":"a"}\n{"order_id":"b"}\n')
  })

  it('a registry that is down fails with one line within --timeout; Kafka without any registry is a usage error', async () => {
    const topic = unique('sr-down')
    await run(['produce', topic], {env, input: 'plain\n'})
    const down = await run(['consume', topic, '--decode', '--registry', 'http://127.0.0.1:1'], {env})
    // Plain records need no schema: nothing is asked of the registry.
    expect(down.code).toBe(0)
    const produce = await run(['produce', topic, '--value-schema', schemaFixture('order-key.avsc'), '--registry', 'http://127.0.0.1:1', '--timeout', '2s'], {env, input: '{"order_id":"x"}\n'})
    expect(produce.code).toBe(1)
    expect(produce.stderr).toMatch(/^spool: schema registry http:\/\/127\.0\.0\.1:1 is unreachable \(connection refused\)/)
    expect(produce.stderr.trim().split('\n')).toHaveLength(1)
    const noRegistry = await run(['consume', topic, '--decode'], {env: {...env, SPOOL_REGISTRY: ''}})
    expect(noRegistry.code).toBe(2)
    expect(noRegistry.stderr).toMatch(/needs a schema registry/)
  })

  it('schema commands on the registry: register, get, list, check (409 refusals and reasons), delete', async () => {
    const subject = unique('sr-cmd')
    const registered = await run(['schema', 'register', subject, schemaFixture('order.avsc'), '--json'], {env})
    expect(registered.code, registered.stderr).toBe(0)
    const {id} = JSON.parse(registered.stdout.toString())
    const byId = JSON.parse((await run(['schema', 'get', '--id', String(id), '--json'], {env})).stdout.toString())
    expect(byId).toMatchObject({id, type: 'AVRO'})
    expect(JSON.parse(byId.schema)).toEqual(JSON.parse(readFileSync(schemaFixture('order.avsc'), 'utf8')))
    // Under BACKWARD, a new field without a default breaks readers of old data.
    await fetch(`${registry.url}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: {'content-type': 'application/vnd.schemaregistry.v1+json'},
      body: JSON.stringify({compatibility: 'BACKWARD'}),
    })
    const next = JSON.parse(readFileSync(schemaFixture('order.avsc'), 'utf8'))
    next.fields.push({name: 'required_now', type: 'string'})
    const file = join(t.home, 'next.avsc')
    writeFileSync(file, JSON.stringify(next))
    const check = await run(['schema', 'check', subject, file], {env})
    expect(check.code).toBe(1)
    expect(check.stdout.toString()).toMatch(/is not compatible/)
    const refused = await run(['schema', 'register', subject, file], {env})
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/refused the schema as incompatible \(409\)/)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    const listed = JSON.parse((await run(['schema', 'list', subject, '--json'], {env})).stdout.toString())
    expect(listed.map((v: {version: number}) => v.version)).toEqual([1])
    expect((await run(['schema', 'delete', subject], {env})).code).toBe(0)
    expect((await run(['schema', 'get', subject], {env})).code).toBe(1)
  })

  it('pipe from Kafka into a store brings the schemas: the copy decodes with the registry stopped, bytes equal', async () => {
    // A registry of this test's own, so that it can be stopped.
    const own = await startRegistry({})
    try {
      const topic = unique('sr-archive')
      await peerCreateTopic(topic)
      const ownEnv = {...env, SPOOL_REGISTRY: own.url}
      for (const c of CASES) {
        const produced = await run(['produce', topic, '--input', 'json', ...c.spool], {env: ownEnv, input: readFileSync(schemaFixture(c.lines))})
        expect(produced.code, produced.stderr).toBe(0)
      }
      const archive = `file:${join(t.home, 'archive.db')}`
      const piped = await run(['pipe', `${plaintext}/${topic}`, `${archive}/orders`, '-g', 'archive'], {env: ownEnv})
      expect(piped.code, piped.stderr).toBe(0)
      const source = await run(['consume', topic, '--json'], {env: ownEnv})
      const decodedAtSource = await run(['consume', topic, '--json', '--decode'], {env: ownEnv})
      await own.stop()
      const copy = await run(['consume', 'orders', '--json', '-b', archive], {env})
      const strip = (text: string) => text.split('\n').filter(Boolean).map((line) => {
        const {topic: _t, ...rest} = parseExact(line)
        return rest
      })
      expect(strip(copy.stdout.toString())).toEqual(strip(source.stdout.toString()))
      const decoded = await run(['consume', 'orders', '--json', '--decode', '-b', archive], {env: {...env, SPOOL_REGISTRY: ''}})
      expect(decoded.code, decoded.stderr).toBe(0)
      expect(strip(decoded.stdout.toString())).toEqual(strip(decodedAtSource.stdout.toString()))
      expect(decodedPairs(decoded.stdout)).toEqual(CASES.flatMap((c) => fixtureLines(c.lines)))
    } finally {
      await own.stop().catch(() => {})
    }
  })
})
