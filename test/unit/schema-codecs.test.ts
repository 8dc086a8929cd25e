import {describe, expect, it} from 'vitest'
import {compileSchema} from '../../src/schemas/codecs.js'
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
    expect(() => codec.decodeToJson(Buffer.from([0x02, 0x61, 0x00]))).toThrow(/trailing data/)
  })
})
