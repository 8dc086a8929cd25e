import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, sh, tempHome} from '../helpers/cli.js'

// The local store as its own schema registry: no server anywhere in these tests.

const ORDER_AVRO = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    {name: 'id', type: 'long'},
    {name: 'sku', type: 'string'},
    {name: 'price', type: ['null', 'double'], default: null},
    {name: 'tags', type: {type: 'array', items: 'string'}, default: []},
    {name: 'status', type: {type: 'enum', name: 'Status', symbols: ['NEW', 'PAID']}},
  ],
})

const ORDER_PROTO = `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";

message Order {
  int64 id = 1;
  string sku = 2;
  repeated string tags = 3;
  Status status = 4;
  google.protobuf.Timestamp placed = 5;
  Line first_line = 6;
}
message Line { string sku = 1; int32 quantity = 2; }
enum Status { NEW = 0; PAID = 1; }
`

const ORDER_JSON_SCHEMA = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {id: {type: 'integer'}, sku: {type: 'string'}, price: {type: 'number'}},
  required: ['id', 'sku'],
  additionalProperties: false,
})

let t: ReturnType<typeof tempHome>
let dir: string
beforeEach(() => {
  t = tempHome()
  dir = join(t.home, 'schemas')
  mkdirSync(dir)
  writeFileSync(join(dir, 'order.avsc'), ORDER_AVRO)
  writeFileSync(join(dir, 'order.proto'), ORDER_PROTO)
  writeFileSync(join(dir, 'order.json'), ORDER_JSON_SCHEMA)
})
afterEach(() => t.cleanup())

const spool = (args: string[], input?: string) => run(args, {env: t.env, input})
const lines = (text: Buffer | string) => text.toString().split('\n').filter(Boolean)

describe('produce --value-schema and consume --decode on the local store', () => {
  it('Avro: canonical JSON in, the same canonical JSON out, exact longs, framed bytes stored', async () => {
    const input = [
      '{"id":9223372036854775807,"sku":"a-1","price":{"double":9.5},"tags":["x","y"],"status":"PAID"}',
      '{"id":-1,"sku":"b-2","price":null,"tags":[],"status":"NEW"}',
    ]
    const produced = await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc')], input.join('\n') + '\n')
    expect(produced.stderr).toBe(`spool: created topic 'orders' (1 partition) in ${t.store}\n`)
    expect(produced.code).toBe(0)
    const decoded = await spool(['consume', 'orders', '--decode'])
    expect(decoded.code).toBe(0)
    expect(lines(decoded.stdout)).toEqual(input)
    // Without --decode the stored bytes are the Confluent framing: 0, the schema id (1), then Avro.
    const raw = await spool(['consume', 'orders', '--format', '%v'])
    expect([...raw.stdout.subarray(0, 5)]).toEqual([0, 0, 0, 0, 1])
    // The schema is registered under TOPIC-value.
    const listed = await spool(['schema', 'list', '--json'])
    expect(JSON.parse(listed.stdout.toString())).toEqual([{subject: 'orders-value', versions: 1, latest: 1, id: 1, type: 'AVRO'}])
  })

  it('lines in any delimiter, with CRLF, in the schema\'s field order or not, with defaults left out: each record is the document', async () => {
    const canonical = [
      '{"id":1,"sku":"a","price":{"double":0.1},"tags":["t"],"status":"NEW"}',
      '{"id":9007199254740993,"sku":"b \\"q\\" é","price":null,"tags":[],"status":"PAID"}',
      '{"id":3,"sku":"c","price":null,"tags":[],"status":"NEW"}',
    ]
    const given = [
      ' { "id" : 1 , "sku" : "a" , "price" : { "double" : 1e-1 } , "tags" : [ "t" ] , "status" : "NEW" } ',
      '{"status":"PAID","tags":[],"price":null,"sku":"b \\"q\\" \\u00e9","id":9007199254740993}',
      '{"id":3,"sku":"c","status":"NEW"}',
    ]
    const crlf = await spool(['produce', 'crlf', '--crlf', '--value-schema', join(dir, 'order.avsc')], given.map((line) => line + '\r\n').join(''))
    expect(crlf.code).toBe(0)
    expect(lines((await spool(['consume', 'crlf', '--decode'])).stdout)).toEqual(canonical)
    const semicolons = await spool(['produce', 'semi', '-D', ';', '--value-schema', join(dir, 'order.avsc')], given.join(';') + ';' + given[0])
    expect(semicolons.code).toBe(0)
    expect(lines((await spool(['consume', 'semi', '--decode'])).stdout)).toEqual([...canonical, canonical[0]])
  })

  it('--json puts the decoded value in "value" with "value_schema", and keys decode too', async () => {
    writeFileSync(join(dir, 'key.avsc'), '"string"')
    await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc'), '--key-schema', join(dir, 'key.avsc'), '-K', '\t'], '"k1"\t{"id":1,"sku":"s","price":null,"tags":[],"status":"NEW"}\n')
    const out = await spool(['consume', 'orders', '--decode', '--json'])
    const envelope = JSON.parse(out.stdout.toString())
    expect(envelope.value).toEqual({id: 1, sku: 's', price: null, tags: [], status: 'NEW'})
    expect(envelope.value_schema).toEqual({id: 1, type: 'AVRO'})
    expect(envelope.key).toBe('k1')
    expect(envelope.key_schema).toEqual({id: 2, type: 'AVRO'})
    const formatted = await spool(['consume', 'orders', '--decode', '--format', '%k %v\\n'])
    expect(formatted.stdout.toString()).toBe('"k1" {"id":1,"sku":"s","price":null,"tags":[],"status":"NEW"}\n')
  })

  it('Protobuf: proto3 JSON in and out, several messages chosen with --value-message', async () => {
    const input = '{"id":"12345678901234567","sku":"p","tags":["a"],"status":"PAID","placed":"2026-11-30T10:00:00Z","firstLine":{"sku":"l","quantity":2}}'
    const withoutMessage = await spool(['produce', 'orders', '--value-schema', join(dir, 'order.proto')], input + '\n')
    expect(withoutMessage.code).toBe(1)
    expect(withoutMessage.stderr).toMatch(/--value-message/)
    const produced = await spool(['produce', 'orders', '--value-schema', join(dir, 'order.proto'), '--value-message', 'Order'], input + '\n')
    expect(produced.code).toBe(0)
    const decoded = await spool(['consume', 'orders', '--decode'])
    expect(JSON.parse(decoded.stdout.toString())).toEqual(JSON.parse(input))
    const second = await spool(['produce', 'lines', '--value-schema', join(dir, 'order.proto'), '--value-message', 'shop.Line'], '{"sku":"z","quantity":3}\n')
    expect(second.code).toBe(0)
    expect((await spool(['consume', 'lines', '--decode'])).stdout.toString()).toBe('{"sku":"z","quantity":3}\n')
  })

  it('JSON Schema: validated, stored as the document, printed as it was given', async () => {
    const produced = await spool(['produce', 'orders', '--value-schema', join(dir, 'order.json')], '{"id":1,"sku":"j","price":2.5}\n')
    expect(produced.code).toBe(0)
    expect((await spool(['consume', 'orders', '--decode'])).stdout.toString()).toBe('{"id":1,"sku":"j","price":2.5}\n')
    const bad = await spool(['produce', 'orders', '--value-schema', join(dir, 'order.json')], '{"id":2,"sku":"ok"}\n{"id":"x","sku":"j"}\n')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/line 2: .*id/)
    expect(bad.stderr).toMatch(/stored the 1 record before it/)
  })

  it('a line that does not fit names the line and the field; the records before it are stored', async () => {
    const good = '{"id":1,"sku":"a","price":null,"tags":[],"status":"NEW"}'
    const bad = '{"id":2,"sku":"b","price":"abc","tags":[],"status":"NEW"}'
    const result = await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc')], `${good}\n${good}\n${bad}\n${good}\n`)
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n').filter((l) => !l.includes('created topic'))).toHaveLength(1)
    expect(result.stderr).toMatch(/line 3: \.price: /)
    expect(lines((await spool(['consume', 'orders'])).stdout)).toHaveLength(2)
    const notJson = await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc')], 'not json\n')
    expect(notJson.code).toBe(1)
    expect(notJson.stderr).toMatch(/line 1: not valid JSON/)
  })

  it('a schema file that does not parse: its file, line and column, nothing produced', async () => {
    writeFileSync(join(dir, 'broken.proto'), 'syntax = "proto3";\nmessage A {\n  int32 x = ;\n}\n')
    const result = await spool(['produce', 'orders', '--value-schema', join(dir, 'broken.proto')], '{"x":1}\n')
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/broken\.proto:3:\d+: /)
    writeFileSync(join(dir, 'broken.avsc'), '{"type": "record", "name": "A", "fields": [\n  {"name": "x", "type": "nope"}\n]}')
    const avro = await spool(['produce', 'orders', '--value-schema', join(dir, 'broken.avsc')], '{"x":1}\n')
    expect(avro.code).toBe(1)
    expect(avro.stderr).toMatch(/broken\.avsc/)
    expect((await spool(['topic', 'list', '--json'])).stdout.toString().trim()).toBe('[]')
  })

  it('--no-register only looks the schema up; @SUBJECT[:VERSION] writes with a registered one', async () => {
    const notThere = await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc'), '--no-register'], '{}\n')
    expect(notThere.code).toBe(1)
    expect(notThere.stderr).toMatch(/not registered under subject 'orders-value'/)
    const registered = await spool(['schema', 'register', 'shared-order', join(dir, 'order.avsc'), '--json'])
    expect(JSON.parse(registered.stdout.toString())).toEqual({subject: 'shared-order', version: 1, id: 1, type: 'AVRO'})
    const produced = await spool(['produce', 'orders', '--value-schema', '@shared-order:1'], '{"id":1,"sku":"a","price":null,"tags":[],"status":"NEW"}\n')
    expect(produced.code).toBe(0)
    expect((await spool(['consume', 'orders', '--decode'])).stdout.toString()).toMatch(/"sku":"a"/)
  })

  it('a new version must read what the latest wrote (BACKWARD), as schema check says: register and produce refuse one that cannot', async () => {
    const v1 = JSON.stringify({type: 'record', name: 'W', fields: [{name: 'id', type: 'long'}]})
    const noDefault = JSON.stringify({type: 'record', name: 'W', fields: [{name: 'id', type: 'long'}, {name: 'age', type: 'int'}]})
    const withDefault = JSON.stringify({type: 'record', name: 'W', fields: [{name: 'id', type: 'long'}, {name: 'age', type: 'int', default: 0}]})
    for (const [name, text] of [['v1', v1], ['no-default', noDefault], ['with-default', withDefault]]) writeFileSync(join(dir, `${name}.avsc`), text!)
    expect((await spool(['produce', 'w', '--value-schema', join(dir, 'v1.avsc')], '{"id":1}\n')).code).toBe(0)
    expect((await spool(['schema', 'check', 'w-value', join(dir, 'no-default.avsc')])).code).toBe(1)
    // Before, both registered it as version 2 while check said it could not be.
    for (const args of [['schema', 'register', 'w-value', join(dir, 'no-default.avsc')], ['produce', 'w', '--value-schema', join(dir, 'no-default.avsc')]]) {
      const refused = await spool(args, '{"id":2,"age":3}\n')
      expect(refused.code, args.join(' ')).toBe(1)
      expect(refused.stderr).toMatch(/^spool: the schema is not compatible with w-value version 1: no matching field for default-less W\.age \(/)
    }
    expect((await spool(['produce', 'w', '--value-schema', join(dir, 'with-default.avsc')], '{"id":2,"age":3}\n')).code).toBe(0)
    expect(JSON.parse((await spool(['schema', 'list', '--json'])).stdout.toString())).toMatchObject([{subject: 'w-value', versions: 2, latest: 2}])
    expect((await spool(['count', 'w'])).stdout.toString()).toBe('2\n')
  })

  it('--decode meets an unknown schema id: the records before it print, then one line naming the record and id', async () => {
    await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc')], '{"id":1,"sku":"a","price":null,"tags":[],"status":"NEW"}\n')
    // A framed value naming id 99, which the store does not have.
    await spool(['produce', 'orders', '--input', 'json'], JSON.stringify({value: Buffer.from([0, 0, 0, 0, 99, 2]).toString('base64'), value_encoding: 'base64'}) + '\n')
    const result = await spool(['consume', 'orders', '--decode'])
    expect(result.code).toBe(1)
    expect(lines(result.stdout)).toHaveLength(1)
    expect(result.stderr).toMatch(/orders partition 0 offset 1.*schema id 99/)
    // Records without the framing pass as they are.
    await spool(['produce', 'plain'], 'hello\n')
    expect((await spool(['consume', 'plain', '--decode'])).stdout.toString()).toBe('hello\n')
  })

  it('replay decodes too', async () => {
    await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc')], '{"id":1,"sku":"a","price":null,"tags":[],"status":"NEW"}\n{"id":2,"sku":"b","price":null,"tags":[],"status":"NEW"}\n')
    const replayed = await spool(['replay', 'orders', '--speed', 'max', '--decode'])
    expect(lines(replayed.stdout).map((l) => JSON.parse(l).id)).toEqual([1, 2])
  })

  it('schema get, list, check and delete on the store', async () => {
    await spool(['schema', 'register', 'orders-value', join(dir, 'order.avsc')])
    expect((await spool(['schema', 'get', 'orders-value'])).stdout.toString().trim()).toBe(ORDER_AVRO)
    expect(JSON.parse((await spool(['schema', 'get', '--id', '1', '--json'])).stdout.toString())).toMatchObject({id: 1, type: 'AVRO'})
    // A new optional field is backward compatible; a new field without a default is not.
    const v2 = JSON.parse(ORDER_AVRO)
    v2.fields.push({name: 'note', type: ['null', 'string'], default: null})
    writeFileSync(join(dir, 'v2.avsc'), JSON.stringify(v2))
    const ok = await spool(['schema', 'check', 'orders-value', join(dir, 'v2.avsc')])
    expect(ok.code).toBe(0)
    v2.fields.push({name: 'required_now', type: 'string'})
    writeFileSync(join(dir, 'v3.avsc'), JSON.stringify(v2))
    const notOk = await spool(['schema', 'check', 'orders-value', join(dir, 'v3.avsc')])
    expect(notOk.code).toBe(1)
    expect(notOk.stdout.toString()).toMatch(/not compatible/)
    expect(notOk.stdout.toString()).toMatch(/required_now/)
    await spool(['schema', 'register', 'orders-value', join(dir, 'v2.avsc')])
    expect(JSON.parse((await spool(['schema', 'list', 'orders-value', '--json'])).stdout.toString()).map((v: {version: number}) => v.version)).toEqual([1, 2])
    const deleted = await spool(['schema', 'delete', 'orders-value', '--version', '1', '--json'])
    expect(JSON.parse(deleted.stdout.toString())).toEqual({subject: 'orders-value', deleted: [1]})
    expect(JSON.parse((await spool(['schema', 'list', 'orders-value', '--json'])).stdout.toString()).map((v: {version: number}) => v.version)).toEqual([2])
    // A deleted version's schema keeps its id: records framed with it still decode.
    expect((await spool(['schema', 'get', '--id', '1'])).code).toBe(0)
    const missing = await spool(['schema', 'get', 'nope-value'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/subject 'nope-value'/)
  })

  it('pipe into another store carries the schemas: the copy decodes on its own, bytes unchanged', async () => {
    await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc')], '{"id":7,"sku":"c","price":{"double":1.25},"tags":[],"status":"PAID"}\n')
    const archive = join(t.home, 'archive.db')
    const piped = await spool(['pipe', 'orders', `file:${archive}/orders`])
    expect(piped.code).toBe(0)
    const original = await spool(['consume', 'orders', '--json'])
    const copied = await spool(['consume', 'orders', '--json', '-b', `file:${archive}`])
    expect(copied.stdout.toString()).toBe(original.stdout.toString())
    expect((await spool(['consume', 'orders', '--decode', '-b', `file:${archive}`])).stdout.toString()).toBe('{"id":7,"sku":"c","price":{"double":1.25},"tags":[],"status":"PAID"}\n')
    expect(JSON.parse((await spool(['schema', 'list', '--json', '-b', `file:${archive}`])).stdout.toString())).toEqual([
      {subject: 'orders-value', versions: 1, latest: 1, id: 1, type: 'AVRO'},
    ])
  })

  it('a copy into a store whose id means another schema is refused before any record is written', async () => {
    await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc')], '{"id":7,"sku":"c","price":null,"tags":[],"status":"PAID"}\n')
    const archive = join(t.home, 'archive.db')
    await spool(['schema', 'register', 'other', join(dir, 'order.json'), '-b', `file:${archive}`])
    const piped = await spool(['pipe', 'orders', `file:${archive}/orders`])
    expect(piped.code).toBe(1)
    expect(piped.stderr).toMatch(/schema id 1 .* different schema/)
    expect((await spool(['consume', 'orders', '-b', `file:${archive}`])).stdout.length).toBe(0)
  })

  it('reads never write: --decode on a store opened read-only works and leaves the file as it was', async () => {
    await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc')], '{"id":7,"sku":"c","price":null,"tags":[],"status":"PAID"}\n')
    const before = readFileSync(t.store)
    expect((await spool(['consume', 'orders', '--decode'])).code).toBe(0)
    expect((await spool(['schema', 'list'])).code).toBe(0)
    expect(readFileSync(t.store).equals(before)).toBe(true)
  })
})

describe('more of the schema contract, on the local store', () => {
  it('a .proto importing a file beside it: the import is registered under its path and referenced', async () => {
    writeFileSync(join(dir, 'money.proto'), 'syntax = "proto3";\npackage shop;\nmessage Money { string currency = 1; int64 micros = 2; }\n')
    writeFileSync(join(dir, 'priced.proto'), 'syntax = "proto3";\npackage shop;\nimport "money.proto";\nmessage Priced { string sku = 1; Money price = 2; }\n')
    const input = '{"sku":"a","price":{"currency":"EUR","micros":"12500000"}}'
    const produced = await spool(['produce', 'priced', '--value-schema', join(dir, 'priced.proto')], input + '\n')
    expect(produced.code, produced.stderr).toBe(0)
    expect((await spool(['consume', 'priced', '--decode'])).stdout.toString()).toBe(input + '\n')
    const value = JSON.parse((await spool(['schema', 'get', 'priced-value', '--json'])).stdout.toString())
    expect(value.references).toEqual([{name: 'money.proto', subject: 'money.proto', version: 1}])
    expect(JSON.parse((await spool(['schema', 'list', '--json'])).stdout.toString()).map((s: {subject: string}) => s.subject)).toEqual(['money.proto', 'priced-value'])
  })

  it('consume --json | produce --input json keeps framed bytes exactly; --decode --json | produce --input json --value-schema encodes again', async () => {
    const input = '{"id":5,"sku":"x","price":{"double":2.0},"tags":["t"],"status":"NEW"}'
    await spool(['produce', 'orders', '--value-schema', join(dir, 'order.avsc'), '-k', 'k'], input + '\n')
    const copied = await sh('$bin consume orders --json | $bin produce copy --input json', {env: t.env})
    expect(copied.code, copied.stderr).toBe(0)
    const bytes = async (topic: string) => (await spool(['consume', topic, '--format', '%k %v'])).stdout
    expect((await bytes('copy')).equals(await bytes('orders'))).toBe(true)
    const reencoded = await sh(`$bin consume orders --decode --json | $bin produce again --input json --value-schema ${join(dir, 'order.avsc')}`, {env: t.env})
    expect(reencoded.code, reencoded.stderr).toBe(0)
    expect((await bytes('again')).equals(await bytes('orders'))).toBe(true)
  })

  it('flags that go together, and a topic without schemas under --decode --json', async () => {
    const lonely = await spool(['produce', 'orders', '--value-message', 'Order'], 'x\n')
    expect(lonely.code).toBe(2)
    expect(lonely.stderr).toMatch(/go with --value-schema/)
    const unknownType = await spool(['produce', 'orders', '--value-schema', join(t.home, 'x.txt')], 'x\n')
    expect(unknownType.code).toBe(2)
    expect(unknownType.stderr).toMatch(/name it \.avsc/)
    await spool(['produce', 'plain'], 'hello\n')
    const json = JSON.parse((await spool(['consume', 'plain', '--decode', '--json'])).stdout.toString())
    expect(json.value).toBe('hello')
    expect(json.value_schema).toBeUndefined()
  })
})
