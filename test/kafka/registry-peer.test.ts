import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {exactLines, fixtureLines, framing, kcatRaw, peerConsume, peerCreateTopic, peerProduce, type PeerSides, registryGet, schemaFixture} from '../helpers/registry-peer.js'

// The schema-registry test infrastructure on its own, without spool: the registry (Apicurio, Confluent
// API) and Confluent's Python client, which writes the fixtures' records to the test broker and reads
// them back to the same canonical JSON. kcat shows that the records carry Confluent's framing.

function unique(name: string): string {
  return `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`
}

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
