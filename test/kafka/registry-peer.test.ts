import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, inject, it} from 'vitest'
import {exactLines, fixtureLines, framing, kcatRaw, peerConsume, peerCreateTopic, peerProduce, type PeerSides, registryGet, schemaFixture} from '../helpers/registry-peer.js'
import {unique} from '../helpers/cli.js'

// The schema-registry test infrastructure on its own, without spool: the registry (Apicurio, Confluent
// API) and Confluent's Python client, which writes the fixtures' records to the test broker and reads
// them back to the same canonical JSON. kcat shows that the records carry Confluent's framing.

const CASES: Array<{format: string; lines: string; sides: PeerSides; valueIndexes: number[]; keyIndexes: number[]}> = [
  {
    format: 'avro',
    lines: 'order.avro.jsonl',
    sides: {valueFormat: 'avro', valueSchema: schemaFixture('order.avsc'), keyFormat: 'avro', keySchema: schemaFixture('order-key.avsc')},
    valueIndexes: [],
    keyIndexes: [],
  },
  {
    format: 'json',
    lines: 'order.json.jsonl',
    sides: {valueFormat: 'json', valueSchema: schemaFixture('order.schema.json'), keyFormat: 'json', keySchema: schemaFixture('order-key.schema.json')},
    valueIndexes: [],
    keyIndexes: [],
  },
  {
    format: 'protobuf',
    lines: 'order.proto.jsonl',
    sides: {
      valueFormat: 'protobuf',
      valueSchema: schemaFixture('order.proto'),
      message: 'Order',
      keyFormat: 'protobuf',
      keySchema: schemaFixture('order.proto'),
      keyMessage: 'OrderKey',
    },
    // Order is the file's second message: message indexes [1], as the varints 02 (count 1) 02 (1).
    valueIndexes: [0x02, 0x02],
    // OrderKey is the first: [0], written as the single byte 00.
    keyIndexes: [0x00],
  },
]

describe('the schema-registry peer (Confluent Python client) against the registry and the broker', () => {
  for (const {format, lines, sides, valueIndexes, keyIndexes} of CASES) {
    it(`${format}: produces the fixture's records framed for the registry and consumes them back exactly`, async () => {
      const topic = unique(`sr-${format}`)
      await peerCreateTopic(topic)
      const input = readFileSync(schemaFixture(lines), 'utf8')
      await peerProduce(topic, {...sides, envelope: true}, input)
      const output = await peerConsume(topic, {...sides, count: 3})
      const expected = fixtureLines(lines)
      expect(expected).toHaveLength(3)
      expect(exactLines(output)).toEqual(expected)
      if (format === 'avro') {
        // Exact big integers, and unions in Avro's JSON encoding, on the way out as on the way in.
        expect(output).toContain('"id":9223372036854775807')
        expect(exactLines(output)[0].value.id).toBe(9223372036854775807n)
        expect(exactLines(output)[1].value.note).toEqual({string: 'leave at the door'})
      }

      // The registry holds one schema per side, under the TopicNameStrategy subjects.
      const subjects: string[] = await registryGet('/subjects')
      expect(subjects).toEqual(expect.arrayContaining([`${topic}-key`, `${topic}-value`]))
      const valueId = (await registryGet(`/subjects/${topic}-value/versions/latest`)).id
      const keyId = (await registryGet(`/subjects/${topic}-key/versions/latest`)).id
      const writerSchema = await registryGet(`/schemas/ids/${valueId}`)
      expect(writerSchema.schemaType ?? 'AVRO').toBe(format === 'json' ? 'JSON' : format.toUpperCase())

      // The bytes on the broker: 0x00, the 4-byte schema id, (protobuf: the message indexes), payload.
      const raw = kcatRaw(topic)
      expect(raw).toHaveLength(3)
      for (const record of raw) {
        expect(framing(record.value!)).toEqual({magic: 0, schemaId: valueId})
        expect(framing(record.key!)).toEqual({magic: 0, schemaId: keyId})
        expect([...record.value!.subarray(5, 5 + valueIndexes.length)]).toEqual(valueIndexes)
        expect([...record.key!.subarray(5, 5 + keyIndexes.length)]).toEqual(keyIndexes)
      }
      if (format === 'json') {
        // JSON Schema's payload is the document itself, as UTF-8 JSON text.
        expect(exactLines(raw[0].value!.subarray(5).toString('utf8'))).toEqual([expected[0].value])
      }
    })
  }
})

/** Registers a schema as another producer would: the schema's text, POSTed to the Confluent API. */
async function register(subject: string, schema: string, schemaType?: string): Promise<number> {
  const response = await fetch(`${inject('registry').url}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: {'content-type': 'application/vnd.schemaregistry.v1+json'},
    body: JSON.stringify(schemaType ? {schema, schemaType} : {schema}),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as {id: number}).id
}

function framed(id: number, ...payload: Buffer[]): Buffer {
  const header = Buffer.alloc(5)
  header.writeInt32BE(id, 1)
  return Buffer.concat([header, ...payload])
}

describe('the peer reads records that another producer framed', () => {
  // spool will register schemas as text (Protobuf as .proto source, where Confluent's Python client
  // registers a base64 FileDescriptorProto) and write the framing itself: the peer must read that too.
  it('avro, json and protobuf values written as raw bytes (kcat) against schemas registered as text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-sr-'))
    try {
      const cases = [
        {
          format: 'avro' as const,
          schema: readFileSync(schemaFixture('order-key.avsc'), 'utf8'),
          // A record of one string: zigzag varint length (3 -> 6), then the UTF-8 bytes.
          payload: [Buffer.from([0x06]), Buffer.from('o-9')],
          sides: {valueFormat: 'avro'} as PeerSides,
          value: {order_id: 'o-9'},
        },
        {
          format: 'json' as const,
          schemaType: 'JSON',
          schema: readFileSync(schemaFixture('order-key.schema.json'), 'utf8'),
          payload: [Buffer.from('{"order_id": "o-9"}')],
          sides: {valueFormat: 'json'} as PeerSides,
          value: {order_id: 'o-9'},
        },
        {
          format: 'protobuf' as const,
          schemaType: 'PROTOBUF',
          schema: readFileSync(schemaFixture('order.proto'), 'utf8'),
          // Message indexes [1] (Order), then Order {order_id: "o-9", id: 2^63-1, status: SHIPPED}.
          payload: [
            Buffer.from([0x02, 0x02]),
            Buffer.from([0x0a, 0x03]),
            Buffer.from('o-9'),
            Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x20, 0x02]),
          ],
          sides: {valueFormat: 'protobuf', valueSchema: schemaFixture('order.proto'), message: 'Order'} as PeerSides,
          value: {orderId: 'o-9', id: '9223372036854775807', status: 'SHIPPED'},
        },
      ]
      for (const c of cases) {
        const topic = unique(`sr-other-${c.format}`)
        await peerCreateTopic(topic)
        const id = await register(`${topic}-value`, c.schema, c.schemaType)
        const file = join(dir, `${c.format}.bin`)
        writeFileSync(file, framed(id, ...c.payload))
        // kcat -P with a file argument sends the whole file as one record, whatever bytes it holds.
        execFileSync('kcat', ['-P', '-b', inject('kafka').plaintext, '-t', topic, file], {timeout: 60_000})
        const out = await peerConsume(topic, {...c.sides, count: 1})
        expect(exactLines(out), c.format).toEqual([{key: null, value: c.value}])
      }
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
