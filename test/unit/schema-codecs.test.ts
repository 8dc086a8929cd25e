import {describe, expect, it} from 'vitest'
import {compileSchema} from '../../src/schemas/codecs.js'
import {JsonBytes} from '../../src/schemas/json-bytes.js'
import {parseJson} from '../../src/schemas/json-text.js'
import {SchemaParseError, SchemaPayloadError, SchemaValueError, type ReferenceResolver, type SchemaReference, type SchemaText, type SchemaType} from '../../src/schemas/types.js'

const noReferences: ReferenceResolver = async (reference) => {
  throw new Error(`unexpected reference ${reference.name}`)
}
const text = (type: SchemaType, schema: unknown, references: SchemaReference[] = []): SchemaText => ({
  type,
  schema: typeof schema === 'string' ? schema : JSON.stringify(schema),
  references,
})
const resolverOf = (schemas: Record<string, SchemaText>): ReferenceResolver => async (reference) => {
  const found = schemas[reference.subject]
  if (!found) throw new Error(`no subject ${reference.subject}`)
  return found
}
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
/** encode(parse(line)) then decode: the line must come back exactly. */
const roundTrip = (codec: {encode(value: unknown): Uint8Array; decodeToJson(payload: Uint8Array): string}, line: string) =>
  codec.decodeToJson(codec.encode(parseJson(line)))

function valueError(run: () => unknown): SchemaValueError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaValueError)
    return error as SchemaValueError
  }
  throw new Error('expected a SchemaValueError')
}
async function parseError(run: () => Promise<unknown>): Promise<SchemaParseError> {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaParseError)
    return error as SchemaParseError
  }
  throw new Error('expected a SchemaParseError')
}

describe('Avro', () => {
  const order = {
    type: 'record',
    name: 'Order',
    namespace: 'com.acme',
    fields: [
      {name: 'id', type: 'long'},
      {name: 'sku', type: 'string'},
      {name: 'qty', type: 'int'},
      {name: 'price', type: ['null', 'double'], default: null},
      {name: 'ok', type: 'boolean'},
    ],
  }

  it('encodes a known record to known bytes and back', async () => {
    const codec = await compileSchema(text('AVRO', order), noReferences)
    const payload = codec.encode({id: 1, sku: 'ab', qty: -2, price: {double: 1.5}, ok: true})
    // long 1 -> 02; string "ab" -> 04 61 62; int -2 -> 03; union branch 1 -> 02 + double 1.5 LE; true -> 01
    expect(hex(payload)).toBe('02' + '046162' + '03' + '02' + '000000000000f83f' + '01')
    expect(codec.decodeToJson(payload)).toBe('{"id":1,"sku":"ab","qty":-2,"price":{"double":1.5},"ok":true}')
  })

  it('keeps longs exact at 2^63-1 and -2^63', async () => {
    const codec = await compileSchema(text('AVRO', 'long'), noReferences)
    expect(hex(codec.encode(9223372036854775807n))).toBe('feffffffffffffffff01')
    expect(codec.decodeToJson(codec.encode(parseJson('9223372036854775807')))).toBe('9223372036854775807')
    expect(roundTrip(codec, '-9223372036854775808')).toBe('-9223372036854775808')
    for (const n of ['0', '-1', '63', '-64', '64', '9007199254740991', '-9007199254740992', '281474976710655', '281474976710656', '4398046511104']) {
      expect(roundTrip(codec, n)).toBe(n)
    }
    expect(valueError(() => codec.encode(9223372036854775808n)).detail).toMatch(/expected long/)
    expect(valueError(() => codec.encode(1.5)).detail).toMatch(/expected long/)
  })

  it('round-trips unions, bytes, enums, fixed, arrays, maps, nested and recursive records', async () => {
    const schema = {
      type: 'record',
      name: 'Doc',
      namespace: 'ns',
      fields: [
        {name: 'u', type: ['null', 'string', {type: 'record', name: 'Inner', fields: [{name: 'x', type: 'int'}]}, 'long']},
        {name: 'b', type: 'bytes'},
        {name: 'e', type: {type: 'enum', name: 'Color', symbols: ['RED', 'GREEN']}},
        {name: 'f', type: {type: 'fixed', name: 'Four', size: 4}},
        {name: 'a', type: {type: 'array', items: 'Inner'}},
        {name: 'm', type: {type: 'map', values: ['null', 'ns.Four']}},
        {name: 'next', type: ['null', 'Doc'], default: null},
        {name: 'ts', type: {type: 'long', logicalType: 'timestamp-millis'}},
        {name: 'dec', type: {type: 'bytes', logicalType: 'decimal', precision: 6, scale: 2}},
        {name: 'fl', type: 'float'},
      ],
    }
    const codec = await compileSchema(text('AVRO', schema), noReferences)
    const line =
      '{"u":{"ns.Inner":{"x":7}},"b":"\\u0000\\u0001ÿ\\"","e":"GREEN","f":"abcd","a":[{"x":1},{"x":-1}],' +
      '"m":{"k":{"ns.Four":"wxyz"},"n":null},"next":{"ns.Doc":{"u":null,"b":"","e":"RED","f":"\\u0000\\u0000\\u0000\\u0000","a":[],"m":{},"next":null,"ts":-1,"dec":"\\u0004Ò","fl":0.1}},' +
      '"ts":1700000000000,"dec":"\\u0000","fl":1.1}'
    expect(roundTrip(codec, line)).toBe(line)
    for (const u of ['null', '{"string":"s"}', '{"long":9223372036854775807}']) {
      const other = line.replace('{"ns.Inner":{"x":7}}', u)
      expect(roundTrip(codec, other)).toBe(other)
    }
  })

  it('resolves named types from references, recursively', async () => {
    const money = text('AVRO', {type: 'record', name: 'Money', namespace: 'com.acme', fields: [{name: 'cents', type: 'long'}, {name: 'cur', type: 'com.acme.Currency'}]}, [
      {name: 'com.acme.Currency', subject: 'currency', version: 1},
    ])
    const currency = text('AVRO', {type: 'enum', name: 'Currency', namespace: 'com.acme', symbols: ['EUR', 'USD']})
    const main = text('AVRO', {type: 'record', name: 'Line', namespace: 'com.acme', fields: [{name: 'total', type: 'Money'}, {name: 'alt', type: ['null', 'com.acme.Money']}]}, [
      {name: 'com.acme.Money', subject: 'money', version: 3},
    ])
    const codec = await compileSchema(main, resolverOf({money, currency}))
    const line = '{"total":{"cents":1999,"cur":"EUR"},"alt":{"com.acme.Money":{"cents":-5,"cur":"USD"}}}'
    expect(roundTrip(codec, line)).toBe(line)
  })

  it('says where a value does not fit', async () => {
    const schema = {
      type: 'record',
      name: 'Cart',
      fields: [
        {name: 'price', type: ['double', 'null']},
        {name: 'items', type: {type: 'array', items: {type: 'record', name: 'Item', fields: [{name: 'sku', type: 'string'}]}}},
        {name: 'tags', type: {type: 'map', values: 'int'}, default: {}},
      ],
    }
    const codec = await compileSchema(text('AVRO', schema), noReferences)
    const ok = {price: null, items: [{sku: 'a'}], tags: {}}
    expect(() => codec.encode(ok)).not.toThrow()
    let error = valueError(() => codec.encode({...ok, price: 'abc'}))
    expect([error.path, error.detail]).toEqual(['.price', 'expected double or null, got "abc"'])
    error = valueError(() => codec.encode({...ok, price: 1.5}))
    expect(error.message).toBe('.price: expected double or null, got 1.5 (a union value is written {"double": value})')
    error = valueError(() => codec.encode({...ok, price: {double: 'x'}}))
    expect([error.path, error.detail]).toEqual(['.price', 'expected double, got "x"'])
    error = valueError(() => codec.encode({...ok, items: [{sku: 'a'}, {sku: 'b'}, {sku: 3}]}))
    expect([error.path, error.detail]).toEqual(['.items[2].sku', 'expected string, got 3'])
    error = valueError(() => codec.encode({...ok, tags: {'a b': 1.5}}))
    expect([error.path, error.detail]).toEqual(['.tags["a b"]', 'expected int (32-bit integer), got 1.5'])
    error = valueError(() => codec.encode({...ok, colour: 'red'}))
    expect([error.path, error.detail]).toEqual(['.colour', 'not a field of record Cart'])
    error = valueError(() => codec.encode({price: null}))
    expect([error.path, error.detail]).toEqual(['.items', 'missing (a array without default)'])
    expect(() => codec.encode({price: null, items: []})).not.toThrow()
  })

  it('rejects schemas and payloads that do not parse', async () => {
    const error = await parseError(() => compileSchema(text('AVRO', '{\n  "type": "record",\n  "name" "X"\n}'), noReferences))
    expect([error.line, error.column]).toEqual([3, 10])
    expect(error.message).toMatch(/^3:10: Avro schema is not valid JSON/)
    await expect(compileSchema(text('AVRO', {type: 'record', name: 'X', fields: [{name: 'a', type: 'Nope'}]}), noReferences)).rejects.toThrow(/undefined type name: Nope/)
    const codec = await compileSchema(text('AVRO', {type: 'record', name: 'X', fields: [{name: 'a', type: 'string'}]}), noReferences)
    expect(() => codec.decodeToJson(Buffer.from([0x08, 0x61]))).toThrow(SchemaPayloadError)
    expect(() => codec.decodeToJson(Buffer.from([0x02, 0x61, 0x00]))).toThrow(/1 bytes left over/)
    // The reader goes from bytes to JSON text itself: every kind of damage is a SchemaPayloadError, never a wrong line.
    const wide = await compileSchema(
      text('AVRO', {
        type: 'record',
        name: 'W',
        fields: [
          {name: 'u', type: ['null', 'long']},
          {name: 'e', type: {type: 'enum', name: 'E', symbols: ['A', 'B']}},
          {name: 'b', type: 'boolean'},
          {name: 'd', type: 'double'},
          {name: 'a', type: {type: 'array', items: 'int'}},
        ],
      }),
      noReferences,
    )
    const good = [0x02, 0x04, 0x02, 0x01, ...Buffer.alloc(8), 0x02, 0x06, 0x00]
    expect(wide.decodeToJson(Buffer.from(good))).toBe('{"u":{"long":2},"e":"B","b":true,"d":0,"a":[3]}')
    expect(wide.decodeToJson(Buffer.from([0xff, 0, 0, 0, 0, 0, ...good]), 6)).toBe('{"u":{"long":2},"e":"B","b":true,"d":0,"a":[3]}')
    for (let cut = 0; cut < good.length; cut++) expect(() => wide.decodeToJson(Buffer.from(good.slice(0, cut)))).toThrow(SchemaPayloadError)
    const damaged = (at: number, byte: number) => Buffer.from(good.map((b, i) => (i === at ? byte : b)))
    expect(() => wide.decodeToJson(damaged(0, 0x04))).toThrow(/union branch 2/)
    expect(() => wide.decodeToJson(damaged(2, 0x06))).toThrow(/enum index 3/)
    expect(() => wide.decodeToJson(damaged(3, 0x07))).toThrow(/boolean byte is 7/)
  })
})

describe('Avro: the direct writer and reader agree with avsc', () => {
  it('writes the bytes avsc writes, for every kind of value, and falls back to avsc for defaults', async () => {
    const avro = (await import('avsc')).default
    const schema = {
      type: 'record',
      name: 'All',
      fields: [
        {name: 'n', type: 'null'},
        {name: 'b', type: 'boolean'},
        {name: 'i', type: 'int'},
        {name: 'l', type: 'long'},
        {name: 'f', type: 'float'},
        {name: 'd', type: 'double'},
        {name: 's', type: 'string'},
        {name: 'y', type: 'bytes'},
        {name: 'x', type: {type: 'fixed', name: 'F', size: 2}},
        {name: 'e', type: {type: 'enum', name: 'E', symbols: ['A', 'B', 'C']}},
        {name: 'a', type: {type: 'array', items: 'long'}},
        {name: 'm', type: {type: 'map', values: 'string'}},
        {name: 'u', type: ['null', 'string', 'E']},
      ],
    }
    const codec = await compileSchema(text('AVRO', schema), noReferences)
    const plain = avro.Type.forSchema(schema as never, {wrapUnions: true})
    const values = [-(2 ** 53) + 1, -(2 ** 52) - 3, -1, 0, 1, 63, 64, -65, 2 ** 31, 2 ** 53 - 1]
    for (const l of values) {
      const value = {n: null, b: l > 0, i: l % 2 ** 31, l, f: 1.5, d: l / 3, s: `ü${l}`, y: '\u0000\u00ff', x: 'ab', e: 'C', a: [l, -l], m: {k: String(l)}, u: l > 0 ? {string: 's'} : {'E': 'B'}}
      const bytes = codec.encode(value)
      const avscValue = {...value, y: Buffer.from(value.y, 'latin1'), x: Buffer.from('ab'), u: l > 0 ? {string: 's'} : {E: 'B'}}
      // avsc's own long refuses values beyond 2^52; there the round trip below is the check.
      if (Math.abs(l) <= 2 ** 52) expect(bytes.toString('hex'), String(l)).toBe(plain.toBuffer(avscValue).toString('hex'))
      expect(JSON.parse(codec.decodeToJson(bytes))).toEqual(JSON.parse(JSON.stringify(value)))
    }
    // A field left out takes its default (through avsc); a field the schema lacks is refused.
    const withDefault = await compileSchema(text('AVRO', {type: 'record', name: 'D', fields: [{name: 'a', type: 'int'}, {name: 'b', type: 'string', default: 'x'}]}), noReferences)
    expect(withDefault.decodeToJson(withDefault.encode({a: 1}))).toBe('{"a":1,"b":"x"}')
    // Values larger than the reused write buffer (64 KiB), through either writer.
    const big = 'z'.repeat(300_000)
    expect(withDefault.decodeToJson(withDefault.encode({a: 2, b: big}))).toBe(`{"a":2,"b":"${big}"}`)
    const bigDefault = await compileSchema(text('AVRO', {type: 'record', name: 'G', fields: [{name: 'a', type: 'string'}, {name: 'b', type: 'int', default: 7}]}), noReferences)
    expect(bigDefault.decodeToJson(bigDefault.encode({a: big + big}))).toBe(`{"a":"${big + big}","b":7}`)
    expect(() => withDefault.encode({a: 1, c: 2})).toThrow(SchemaValueError)
    expect(() => withDefault.encode({a: 'one', b: 'y'})).toThrow(/^\.a: /)
  })
})

describe('Protobuf', () => {
  const shop = `syntax = "proto3";
package shop;

import "google/protobuf/timestamp.proto";

message Ping {
  int32 a = 1;
}

message Order {
  enum Status { STATUS_UNKNOWN = 0; PAID = 1; SHIPPED = 2; }
  message Line {
    string sku = 1;
    uint32 qty = 2;
  }
  int64 order_id = 1;
  Status status = 2;
  bytes blob = 3;
  repeated Line lines = 4;
  google.protobuf.Timestamp placed_at = 5;
  map<string, double> prices = 6;
  uint64 big = 7;
  optional string note = 8;
}
`

  it('writes the single 0 byte for the first message: a 1-field message is 00 08 96 01', async () => {
    const codec = await compileSchema(text('PROTOBUF', 'syntax = "proto3";\nmessage Test1 { int32 a = 1; }\n'), noReferences)
    const payload = codec.encode({a: 150})
    expect(hex(payload)).toBe('00089601')
    expect(codec.decodeToJson(payload)).toBe('{"a":150}')
    // Defaults are omitted; an explicit [0] index list (count 1, index 0) reads the same message.
    expect(codec.decodeToJson(Buffer.from('00', 'hex'))).toBe('{}')
    expect(codec.decodeToJson(Buffer.from('0200089601', 'hex'))).toBe('{"a":150}')
  })

  it('round-trips int64 as strings, enum names, bytes as base64, Timestamp, maps, nested messages', async () => {
    const codec = await compileSchema(text('PROTOBUF', shop), noReferences, {messageName: 'Order'})
    const line =
      '{"orderId":"9223372036854775807","status":"SHIPPED","blob":"AP+A","lines":[{"sku":"a","qty":2},{"sku":"b"}],' +
      '"placedAt":"2024-05-06T07:08:09.123Z","prices":{"x":1.5},"big":"18446744073709551615","note":""}'
    const payload = codec.encode(parseJson(line))
    expect(hex(payload.subarray(0, 2))).toBe('0202') // count 1, index 1 (Order is the second top-level message)
    expect(codec.decodeToJson(payload)).toBe(line)
    // A number (a bigint beyond 2^53 from parseJson) is taken for an int64 too, and prints as a string.
    expect(codec.decodeToJson(codec.encode(parseJson('{"orderId":9223372036854775807,"status":1}')))).toBe('{"orderId":"9223372036854775807","status":"PAID"}')
    expect(codec.decodeToJson(codec.encode({order_id: '-5'}))).toBe('{"orderId":"-5"}')
  })

  it('chooses messages by index, nested ones included', async () => {
    const order = await compileSchema(text('PROTOBUF', shop), noReferences, {messageName: 'shop.Order'})
    const line = await compileSchema(text('PROTOBUF', shop), noReferences, {messageName: 'Order.Line'})
    const ping = await compileSchema(text('PROTOBUF', shop), noReferences, {messageName: 'Ping'})
    const linePayload = line.encode({sku: 'z', qty: 1})
    expect(hex(linePayload.subarray(0, 3))).toBe('040200') // count 2, indexes [1, 0]
    // Any codec of the schema decodes every message by the indexes in the payload.
    expect(order.decodeToJson(linePayload)).toBe('{"sku":"z","qty":1}')
    expect(order.decodeToJson(ping.encode({a: 1}))).toBe('{"a":1}')
    expect(hex(ping.encode({a: 1}))).toBe('000801')
    expect(() => order.decodeToJson(Buffer.from('0206', 'hex'))).toThrow(SchemaPayloadError)
    expect(() => order.decodeToJson(Buffer.from('02', 'hex'))).toThrow(/message indexes/)
    expect(() => order.decodeToJson(Buffer.from('000a05', 'hex'))).toThrow(SchemaPayloadError)
    const unnamed = await compileSchema(text('PROTOBUF', shop), noReferences)
    expect(unnamed.decodeToJson(linePayload)).toBe('{"sku":"z","qty":1}')
    let error: unknown
    try {
      unnamed.encode({a: 1})
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(SchemaParseError)
    expect((error as Error).message).toBe('the Protobuf schema defines several messages (shop.Ping, shop.Order): pass --value-message or --key-message with the one to write')
    await expect(compileSchema(text('PROTOBUF', shop), noReferences, {messageName: 'Nope'})).rejects.toThrow(/has no message 'Nope'/)
  })

  it('reads a base64 FileDescriptorProto as Confluent clients register it', async () => {
    const protobuf = (await import('protobufjs')).default
    const descriptor = await import('protobufjs/ext/descriptor.js')
    const root = new protobuf.Root()
    protobuf.parse(shop.replace('import "google/protobuf/timestamp.proto";', '').replace('google.protobuf.Timestamp placed_at = 5;', ''), root)
    const set = root.toDescriptor('proto3')
    const file = set.file.find((f) => f.package === 'shop')!
    const bytes = descriptor.FileDescriptorProto.encode(file).finish()
    const base64 = Buffer.from(bytes).toString('base64')
    expect(base64).toMatch(/^[A-Za-z0-9+/]+=*$/)
    const fromDescriptor = await compileSchema(text('PROTOBUF', base64), noReferences, {messageName: 'shop.Order'})
    const fromText = await compileSchema(text('PROTOBUF', shop), noReferences, {messageName: 'shop.Order'})
    const line = '{"orderId":"42","status":"PAID","blob":"AQI=","lines":[{"sku":"a","qty":3}]}'
    expect(fromDescriptor.decodeToJson(fromDescriptor.encode(parseJson(line)))).toBe(line)
    // Same bytes, same indexes as the .proto text.
    expect(hex(fromDescriptor.encode(parseJson(line)))).toBe(hex(fromText.encode(parseJson(line))))
    // A descriptor lists map entries among the nested types, and indexes count them: protobufjs puts
    // Order's PricesEntry before Line, so Line is [1, 1] in this descriptor (the codec follows nested_type).
    expect(file.messageType![1]!.nestedType!.map((n) => n.name)).toEqual(['Prices', 'Line'])
    const nested = await compileSchema(text('PROTOBUF', base64), noReferences, {messageName: 'shop.Order.Line'})
    expect(hex(nested.encode({sku: 'q'}).subarray(0, 3))).toBe('040202')
    expect(fromDescriptor.decodeToJson(nested.encode({sku: 'q'}))).toBe('{"sku":"q"}')
  })

  it('compiles imports from references (text and descriptor), and well-known types without one', async () => {
    const common = text('PROTOBUF', 'syntax = "proto3";\npackage shop.common;\nmessage Money { string currency = 1; int64 units = 2; }\n')
    const main = text(
      'PROTOBUF',
      'syntax = "proto3";\npackage shop;\nimport "shop/common/money.proto";\nimport "google/protobuf/wrappers.proto";\nimport "google/protobuf/duration.proto";\n' +
        'message Price { shop.common.Money amount = 1; google.protobuf.StringValue label = 2; google.protobuf.Duration valid_for = 3; }\n',
      [{name: 'shop/common/money.proto', subject: 'money', version: 1}],
    )
    const codec = await compileSchema(main, resolverOf({money: common}))
    const line = '{"amount":{"currency":"EUR","units":"12"},"label":"","validFor":"3.500s"}'
    expect(roundTrip(codec, line)).toBe(line)

    const protobuf = (await import('protobufjs')).default
    const descriptor = await import('protobufjs/ext/descriptor.js')
    const moneyRoot = new protobuf.Root()
    protobuf.parse(common.schema, moneyRoot)
    const moneyFile = moneyRoot.toDescriptor('proto3').file.find((f) => f.package === 'shop.common')!
    const asDescriptor = text('PROTOBUF', Buffer.from(descriptor.FileDescriptorProto.encode(moneyFile).finish()).toString('base64'))
    const viaDescriptor = await compileSchema(main, resolverOf({money: asDescriptor}))
    expect(roundTrip(viaDescriptor, line)).toBe(line)

    await expect(compileSchema({...main, references: []}, noReferences)).rejects.toThrow(/imports without a reference: shop\/common\/money.proto/)
  })

  it('says where a value does not fit', async () => {
    const codec = await compileSchema(text('PROTOBUF', shop), noReferences, {messageName: 'Order'})
    let error = valueError(() => codec.encode({lines: [{sku: 'a'}, {sku: 'b'}, {sku: 3}]}))
    expect([error.path, error.detail]).toEqual(['.lines[2].sku', 'expected string, got 3'])
    error = valueError(() => codec.encode({status: 'LOST'}))
    expect([error.path, error.detail]).toEqual(['.status', 'expected shop.Order.Status (one of STATUS_UNKNOWN, PAID, SHIPPED), got "LOST" (unknown enum value)'])
    error = valueError(() => codec.encode({orderId: 'x1'}))
    expect([error.path, error.detail]).toEqual(['.orderId', 'expected int64 (an integer or a decimal string), got "x1" (invalid integer)'])
    error = valueError(() => codec.encode({placedAt: 'yesterday'}))
    expect([error.path, error.detail]).toEqual(['.placedAt', 'expected google.protobuf.Timestamp, got "yesterday" (invalid timestamp)'])
    error = valueError(() => codec.encode({prices: {x: 'cheap'}}))
    expect([error.path, error.detail]).toEqual(['.prices.x', 'expected double, got "cheap" (invalid number)'])
    error = valueError(() => codec.encode({colour: 1}))
    expect([error.path, error.detail]).toEqual(['.colour', 'not a field of shop.Order'])
  })

  it('reports the line of a .proto syntax error', async () => {
    const error = await parseError(() => compileSchema(text('PROTOBUF', 'syntax = "proto3";\n\nmessage A {\n  int32 a = ;\n}\n'), noReferences))
    expect(error.line).toBe(4)
    expect(error.message).toMatch(/^4:1: Protobuf schema: illegal/)
  })
})

describe('JSON Schema', () => {
  const product = {
    type: 'object',
    properties: {
      sku: {type: 'string'},
      price: {type: 'number'},
      id: {type: 'integer'},
      email: {type: 'string', format: 'email'},
      items: {type: 'array', items: {type: 'object', properties: {sku: {type: 'string'}}, required: ['sku']}},
    },
    required: ['sku'],
    additionalProperties: false,
  }

  it('writes valid documents as they are and prints payloads on one line', async () => {
    const codec = await compileSchema(text('JSON', product), noReferences)
    const line = '{"sku":"a","price":1.5,"id":9223372036854775807,"items":[{"sku":"b"}]}'
    expect(Buffer.from(codec.encode(parseJson(line))).toString()).toBe(line)
    expect(roundTrip(codec, line)).toBe(line)
    expect(codec.decodeToJson(Buffer.from('{\n  "sku": "a",\n  "id": 12345678901234567890\n}\n'))).toBe('{"sku":"a","id":12345678901234567890}')
    expect(() => codec.decodeToJson(Buffer.from('{"sku":'))).toThrow(SchemaPayloadError)
  })

  it('says where a document does not fit', async () => {
    const codec = await compileSchema(text('JSON', product), noReferences)
    let error = valueError(() => codec.encode({sku: 'a', price: 'abc'}))
    expect([error.path, error.detail]).toEqual(['.price', 'must be number, got "abc"'])
    error = valueError(() => codec.encode({sku: 'a', items: [{sku: 'a'}, {sku: 'b'}, {sku: 3}]}))
    expect([error.path, error.detail]).toEqual(['.items[2].sku', 'must be string, got 3'])
    error = valueError(() => codec.encode({price: 1}))
    expect([error.path, error.detail]).toEqual(['.sku', 'missing (a required property)'])
    error = valueError(() => codec.encode({sku: 'a', colour: 'red'}))
    expect([error.path, error.detail]).toEqual(['.colour', 'not allowed by the schema (additionalProperties)'])
    error = valueError(() => codec.encode({sku: 'a', email: 'nope'}))
    expect([error.path, error.detail]).toEqual(['.email', 'must match format "email", got "nope"'])
  })

  it('picks the draft from $schema and resolves references by name', async () => {
    const address = text('JSON', {type: 'object', properties: {city: {type: 'string'}}, required: ['city']})
    const draft2020 = text(
      'JSON',
      {$schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {home: {$ref: 'address.json'}, pair: {type: 'array', prefixItems: [{type: 'string'}, {type: 'integer'}]}}},
      [{name: 'address.json', subject: 'address', version: 1}],
    )
    const codec = await compileSchema(draft2020, resolverOf({address}))
    expect(() => codec.encode({home: {city: 'Oslo'}, pair: ['a', 1]})).not.toThrow()
    expect(valueError(() => codec.encode({home: {}})).path).toBe('.home.city')
    expect(valueError(() => codec.encode({pair: ['a', 'b']})).path).toBe('.pair[1]')
    const withId = text('JSON', {$id: 'https://example.com/schemas/order.json', $schema: 'http://json-schema.org/draft-07/schema#', properties: {to: {$ref: 'address.json'}}}, [
      {name: 'address.json', subject: 'address', version: 1},
    ])
    const codec07 = await compileSchema(withId, resolverOf({address}))
    expect(valueError(() => codec07.encode({to: {city: 1}})).path).toBe('.to.city')
    const draft2019 = await compileSchema(text('JSON', {$schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object', dependentRequired: {a: ['b']}}), noReferences)
    expect(valueError(() => draft2019.encode({a: 1})).detail).toMatch(/must have property b when property a is present/)
  })

  it('rejects schemas that do not parse or compile', async () => {
    const error = await parseError(() => compileSchema(text('JSON', '{"type": "object",\n "properties": {]}'), noReferences))
    expect([error.line, error.column]).toEqual([2, 17])
    await expect(compileSchema(text('JSON', {type: 'object', properties: {a: {$ref: 'missing.json'}}}), noReferences)).rejects.toThrow(SchemaParseError)
    await expect(compileSchema(text('JSON', {type: 'nonsense'}), noReferences)).rejects.toThrow(/does not compile/)
  })
})

describe('Avro: JSON lines straight to bytes (encodeText) and bytes straight to JSON (decodeInto)', () => {
  const schema = {
    type: 'record',
    name: 'Line',
    fields: [
      {name: 's', type: 'string'},
      {name: 'l', type: 'long'},
      {name: 'i', type: 'int'},
      {name: 'd', type: 'double'},
      {name: 'f', type: 'float'},
      {name: 'b', type: 'boolean'},
      {name: 'e', type: {type: 'enum', name: 'E', symbols: ['A', 'BB']}},
      {name: 'u', type: ['null', 'long', {type: 'record', name: 'In', fields: [{name: 'x', type: 'int'}]}]},
      {name: 'a', type: {type: 'array', items: {type: 'array', items: ['null', 'double']}}},
    ],
  }
  const line = (fields: Record<string, string>) => {
    const all = {s: '"s"', l: '1', i: '2', d: '0.5', f: '1.5', b: 'true', e: '"A"', u: 'null', a: '[]', ...fields}
    return `{${Object.entries(all).map(([name, value]) => `"${name}":${value}`).join(',')}}`
  }
  type Codec = {encodeText?(text: Buffer, start: number, end: number, prefix?: Uint8Array): Buffer | undefined; encode(value: unknown, prefix?: Uint8Array): Buffer}
  const encodeText = (codec: Codec, text: Buffer | string, prefix?: Uint8Array) => {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text
    return codec.encodeText!(bytes, 0, bytes.length, prefix)
  }
  /** What produce stores for a line: encodeText where it takes the line, encode(parseJson) where not. */
  const stored = (codec: Codec, text: Buffer | string) => encodeText(codec, text) ?? codec.encode(parseJson(text.toString()))

  it('refuses numbers past a double, or a float, where they were written as Infinity', async () => {
    const codec = await compileSchema(text('AVRO', schema), noReferences)
    // The direct reader declines these lines; the path through parseJson says why.
    for (const d of ['1e400', '-1e400', '1E+309']) {
      expect(encodeText(codec, line({d}))).toBeUndefined()
      expect(() => parseJson(line({d}))).toThrow(`the number ${d} is beyond the range of a double`)
    }
    expect(encodeText(codec, line({f: '1e39'}))).toBeUndefined()
    expect(valueError(() => codec.encode(parseJson(line({f: '1e39'}))))).toMatchObject({path: '.f', detail: 'expected float (at most ±3.4028235e38; "Infinity" for infinity), got 1e+39'})
    // Infinity said as such is still a double's (and a float's) value.
    expect(() => stored(codec, line({d: '"Infinity"', f: '"-Infinity"'}))).not.toThrow()
    expect(() => stored(codec, line({f: '3.4e38'}))).not.toThrow()
  })

  it('writes the bytes that encode(parseJson(line)) writes, for the lines it reads', async () => {
    const codec = await compileSchema(text('AVRO', schema), noReferences)
    const lines = [
      line({}),
      ...['0', '-0', '-1', '999999999999999', '-999999999999999'].map((l) => line({l})),
      ...['0.1', '-0.0', '12.375', '1e-7', '2.5E+3', '3.4e38', '5e-324', '123456789012345.6', '0.30000000000000004', '-7'].map((d) => line({d, f: d})),
      // The largest double, which no float holds (1e400 and a float past 3.4e38 are refused: above).
      line({d: '1.7976931348623157e308'}),
      ...['2147483647', '-2147483648'].map((i) => line({i})),
      ...['"a \\"q\\" \\\\ \\/ \\n \\u00e9 \\ud83d\\ude00"', '"é 日本 \u007f"', '""', '"\\ud800"'].map((s) => line({s})),
      line({b: 'false', e: '"BB"', u: '{"long":-5}'}),
      line({u: '{"In":{"x":3}}', a: '[[null,{"double":1.5}],[],[{"double":-2}]]'}),
      line({a: `[[${Array.from({length: 100}, (_, i) => `{"double":${i}}`).join(',')}]]`}),
      ` \t{ "s" : "x" , "l" : 2 , "i" : 3 , "d" : 4 , "f" : 5 , "b" : false , "e" : "A" , "u" : { "long" : 7 } , "a" : [ [ null ] ] }\r`,
    ]
    for (const candidate of lines) {
      const direct = encodeText(codec, candidate)
      expect(direct, candidate).toBeDefined()
      expect(hex(direct!), candidate).toBe(hex(codec.encode(parseJson(candidate))))
    }
    // Invalid UTF-8 in a string reads as U+FFFD, as Buffer#toString gives it to JSON.parse.
    const invalid = Buffer.concat([Buffer.from('{"s":'), Buffer.from([0x22, 0x78, 0xff, 0xfe, 0x22]), Buffer.from(line({}).slice('{"s":"s"'.length))])
    expect(hex(encodeText(codec, invalid)!)).toBe(hex(codec.encode(parseJson(invalid.toString()))))
    expect(codec.decodeToJson(encodeText(codec, invalid)!)).toContain('"s":"x\ufffd\ufffd"')
  })

  it('payloads stay as written while later ones fill and replace the buffer they are written into', async () => {
    const codec = await compileSchema(text('AVRO', schema), noReferences)
    const frame = Buffer.from([0, 0, 0, 0, 9])
    const lines = Array.from({length: 6000}, (_, i) =>
      line({s: `"${'x'.repeat(i % 300)}"`, l: String(i), a: `[${Array.from({length: i % 40}, () => `[{"double":${i}.5},null]`).join(',')}]`}),
    )
    // Every third line through encode (parseJson), the rest through encodeText; a few large ones between.
    const payloads = lines.map((candidate, i) =>
      i % 3 === 0 ? codec.encode(parseJson(candidate), frame) : i % 500 === 1 ? codec.encode(parseJson(line({s: `"${'y'.repeat(300_000)}"`})), frame) : encodeText(codec, candidate, frame)!,
    )
    payloads.forEach((payload, i) => {
      expect(hex(payload.subarray(0, 5))).toBe('0000000009')
      const expected = i % 500 === 1 && i % 3 !== 0 ? line({s: `"${'y'.repeat(300_000)}"`}) : lines[i]!
      if (codec.decodeToJson(payload, 5) !== expected) expect(codec.decodeToJson(payload, 5), `payload ${i}`).toBe(expected)
    })
  })

  it('keeps longs exact beyond 2^53: those lines go through parseJson', async () => {
    const codec = await compileSchema(text('AVRO', schema), noReferences)
    for (const l of ['9007199254740991', '9007199254740993', '-9007199254740993', '9223372036854775807', '-9223372036854775808', '1234567890123456']) {
      expect(codec.decodeToJson(stored(codec, line({l})))).toBe(line({l}))
    }
    const long = await compileSchema(text('AVRO', 'long'), noReferences)
    expect(hex(stored(long, '9007199254740993'))).toBe(hex(long.encode(9007199254740993n)))
  })

  it('declines what it does not read exactly, and parseJson then writes it or says what is wrong', async () => {
    const codec = await compileSchema(text('AVRO', schema), noReferences)
    const declined = [
      '{"l":1,"s":"s","i":2,"d":0.5,"f":1.5,"b":true,"e":"A","u":null,"a":[]}', // fields in another order
      line({d: '"NaN"'}),
      line({d: '12345678901234567'}), // a bigint to parseJson, which a double does not take
      line({i: '2147483648'}),
      line({i: '1.5'}),
      line({l: '01'}),
      line({l: '1.'}),
      line({l: '1.0'}),
      line({l: '1e3'}),
      line({e: '"C"'}),
      line({e: '"\\u0041"'}),
      line({u: '{"long":1,"In":{"x":1}}'}),
      line({a: '[[null],]'}),
      line({s: '"\\x"'}),
      line({}) + 'x',
      line({}).replace('"s":"s",', ''),
      line({}).replace('}', ',"z":1}'),
      '',
    ]
    for (const candidate of declined) expect(encodeText(codec, candidate), candidate).toBeUndefined()
    // Only the bytes up to `end` are the line, whatever follows them in the input.
    const whole = Buffer.from(`${line({})}\n${line({})}`)
    expect(hex(codec.encodeText!(whole, 0, line({}).length)!)).toBe(hex(codec.encode(parseJson(line({})))))
    for (let end = 1; end < line({}).length; end++) expect(codec.encodeText!(whole, 0, end), `first ${end} bytes`).toBeUndefined()
    const long = await compileSchema(text('AVRO', 'long'), noReferences)
    expect(hex(long.encodeText!(Buffer.from('123'), 0, 2)!)).toBe(hex(long.encode(12)))
    expect(hex(long.encodeText!(Buffer.from(' 1 23'), 2, 4)!)).toBe(hex(long.encode(2)))
    expect(codec.decodeToJson(stored(codec, line({d: '"NaN"'})))).toBe(line({d: '"NaN"'}))
    expect(codec.decodeToJson(stored(codec, line({l: '1e3'})))).toBe(line({l: '1000'}))
    expect(valueError(() => stored(codec, line({i: '2147483648'}))).message).toBe('.i: expected int (32-bit integer), got 2147483648')
    expect(valueError(() => stored(codec, line({e: '"C"'}))).message).toBe('.e: expected one of A, BB, got "C"')
    expect(() => stored(codec, line({l: '01'}))).toThrow(SyntaxError)
    // Types this path leaves to the other: bytes, fixed and maps.
    const other = await compileSchema(text('AVRO', {type: 'map', values: 'bytes'}), noReferences)
    expect(encodeText(other, '{"k":"v"}')).toBeUndefined()
  })

  it('decodes strings with escapes, non-ASCII and invalid UTF-8 as JSON.stringify of the decoded string', async () => {
    const codec = await compileSchema(text('AVRO', {type: 'record', name: 'T', fields: [{name: 's', type: 'string'}, {name: 'y', type: 'bytes'}]}), noReferences)
    const strings = ['plain', 'a "q" \\ /', 'tab\tnew\nline\u0001\u001f\u007f', 'é 日本 😀', '']
    for (const s of strings) {
      expect(codec.decodeToJson(codec.encode({s, y: '\u0000"\u00e9\u00ff'}))).toBe(`{"s":${JSON.stringify(s)},"y":${JSON.stringify('\u0000"\u00e9\u00ff')}}`)
    }
    // Invalid UTF-8 bytes become U+FFFD in the written bytes themselves, not only once read back as text.
    const payload = Buffer.from([0x06, 0x61, 0xff, 0x62, 0x02, 0xe9])
    const into = new JsonBytes(4)
    codec.decodeInto!(payload, 0, payload.length, into)
    expect(into.buf.subarray(0, into.pos)).toEqual(Buffer.from('{"s":"a\ufffdb","y":"\u00e9"}'))
    // A payload that does not decode leaves the buffer where it was.
    const before = into.pos
    expect(() => codec.decodeInto!(payload, 0, 3, into)).toThrow(SchemaPayloadError)
    expect(into.pos).toBe(before)
  })
})
