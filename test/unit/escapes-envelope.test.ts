import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/core/errors.js'
import {ArrayRecordBatch, type FeedRecord} from '../../src/core/record.js'
import {parseDelimiter, unescapeBytes} from '../../src/io/escapes.js'
import {EnvelopeError, decodeEnvelope, encodeEnvelope} from '../../src/io/json-envelope.js'

describe('unescapeBytes', () => {
  it.each([
    ['\\n', [0x0a]],
    ['\\r\\n', [0x0d, 0x0a]],
    ['\\t', [0x09]],
    ['\\0', [0x00]],
    ['\\\\', [0x5c]],
    ['\\x1e', [0x1e]],
    ['\\xFF', [0xff]],
    ['a|b', [0x61, 0x7c, 0x62]],
    ['\\q', [0x5c, 0x71]],
    ['trail\\', [...Buffer.from('trail\\')]],
    ['é', [0xc3, 0xa9]],
  ])('%j is %j', (text, bytes) => {
    expect([...unescapeBytes(text, '-D')]).toEqual(bytes)
  })
  it('refuses a bad \\x escape', () => {
    expect(() => unescapeBytes('\\xZZ', '-D')).toThrow(UsageError)
    expect(() => unescapeBytes('\\x1', '-D')).toThrow("-D has a bad escape '\\x1'")
  })
  it('refuses an empty delimiter', () => {
    expect(() => parseDelimiter('', '-D')).toThrow('-D is empty')
  })
})

const record = (fields: Partial<FeedRecord>): FeedRecord => ({
  topic: 't',
  partition: 0,
  offset: 0,
  timestamp: 1764064800000,
  key: null,
  value: null,
  headers: [],
  ...fields,
})
const encode = (r: FeedRecord) => encodeEnvelope(new ArrayRecordBatch(r.topic, r.partition, [r]), 0)

describe('JSON envelopes', () => {
  it('writes the documented shape, with null for null', () => {
    expect(encode(record({partition: 2, offset: 7, key: Buffer.from('k'), value: Buffer.from('{"a":1}'), headers: [{key: 'h', value: Buffer.from('x')}]}))).toBe(
      '{"topic":"t","partition":2,"offset":7,"timestamp":1764064800000,"key":"k","value":"{\\"a\\":1}","headers":[{"key":"h","value":"x"}]}',
    )
    expect(encode(record({}))).toBe('{"topic":"t","partition":0,"offset":0,"timestamp":1764064800000,"key":null,"value":null,"headers":[]}')
  })

  it('writes bytes that are not UTF-8 in base64 and says so', () => {
    const line = encode(record({key: Buffer.from([0xff, 0x00]), value: Buffer.from([0xc3]), headers: [{key: 'bin', value: Buffer.from([0x80])}]}))
    const parsed = JSON.parse(line)
    expect(parsed.key).toBe('/wA=')
    expect(parsed.key_encoding).toBe('base64')
    expect(parsed.value_encoding).toBe('base64')
    expect(parsed.headers[0]).toEqual({key: 'bin', value: 'gA==', value_encoding: 'base64'})
  })

  it('reads back exactly what it writes: keys, values, binary, null, duplicate headers in order, timestamps, partitions', () => {
    const cases = [
      record({key: Buffer.from('k'), value: Buffer.from('v')}),
      record({value: Buffer.alloc(0), key: Buffer.alloc(0)}),
      record({value: Buffer.from(Array.from({length: 256}, (_, i) => i)), partition: 3, timestamp: 1}),
      record({value: Buffer.from('line\nbreak "quoted" \u2028 ✓'), headers: [{key: 'a', value: Buffer.from('1')}, {key: 'a', value: Buffer.from('2')}, {key: 'b', value: null}, {key: 'a', value: Buffer.alloc(0)}]}),
    ]
    for (const original of cases) {
      const decoded = decodeEnvelope(Buffer.from(encode(original)))
      expect(decoded).toEqual({key: original.key, value: original.value, headers: original.headers, partition: original.partition, timestamp: original.timestamp})
    }
  })

  it('accepts what people write by hand: headers as an object, RFC 3339 timestamps, fields left out', () => {
    expect(decodeEnvelope(Buffer.from('{"value":"v","headers":{"h":"x","n":null},"timestamp":"2026-11-25T10:00:00Z"}'))).toEqual({
      key: null,
      value: Buffer.from('v'),
      headers: [{key: 'h', value: Buffer.from('x')}, {key: 'n', value: null}],
      timestamp: Date.parse('2026-11-25T10:00:00Z'),
    })
    expect(decodeEnvelope(Buffer.from('{"value":null}'))).toEqual({key: null, value: null, headers: []})
    expect(decodeEnvelope(Buffer.from('{"value":"v","timestamp":"2026-11-25 11:30:00.5+01:00"}')).timestamp).toBe(Date.parse('2026-11-25T10:30:00.500Z'))
    expect(decodeEnvelope(Buffer.from('{"value":"v","timestamp":"2026-11-25"}')).timestamp).toBe(Date.parse('2026-11-25T00:00:00Z'))
    expect(decodeEnvelope(Buffer.from('{"value":"v","timestamp":"1764064800000"}')).timestamp).toBe(1764064800000)
    // Digits are epoch milliseconds, not a year (Date.parse reads "1" as 2001-01-01).
    expect(decodeEnvelope(Buffer.from('{"value":"v","timestamp":"1"}')).timestamp).toBe(1)
    // The latest time a Date can show is the latest a record may carry.
    expect(decodeEnvelope(Buffer.from('{"value":"v","timestamp":8640000000000000}')).timestamp).toBe(8_640_000_000_000_000)
  })

  it.each([
    ['{"value":"v"', /not valid JSON/],
    ['[1,2]', /expected a JSON object/],
    ['"text"', /expected a JSON object/],
    ['{"value":5}', /"value" must be a string or null/],
    ['{"value":"!!","value_encoding":"base64"}', /"value" is not valid base64/],
    ['{"value":"v","value_encoding":"hex"}', /must be "base64" or "utf8"/],
    ['{"value":"v","partition":-1}', /"partition" must be a whole number/],
    ['{"value":"v","partition":1.5}', /"partition" must be a whole number/],
    ['{"value":"v","timestamp":"yesterday"}', /"timestamp" "yesterday" is not a time: use epoch milliseconds, RFC 3339 with a zone/],
    // consume --decode --json's envelope: how to encode it again, not "unknown field".
    ['{"value":{"id":1},"value_schema":{"id":1,"type":"AVRO"}}', /has a decoded document \("value_schema"\): to encode it again, give produce --value-schema/],
    // Past it, topic describe and count --by could not print the record's time.
    ['{"value":"v","timestamp":8640000000000001}', /"timestamp" 8640000000000001 is not a time: .*from 0 to 8640000000000000/],
    ['{"value":"v","timestamp":"8640000000000001"}', /"timestamp" "8640000000000001" is not a time/],
    // A time without a zone means different instants on different machines; Date.parse would take these.
    ['{"value":"v","timestamp":"2026-01-01 10:00"}', /"timestamp" "2026-01-01 10:00" is not a time/],
    ['{"value":"v","timestamp":"2026-01-01T10:00:00"}', /is not a time/],
    ['{"value":"v","timestamp":"Tue, 01 Jan 2030"}', /is not a time/],
    ['{"value":"v","timestamp":"2026-02-30"}', /"timestamp" "2026-02-30" is not a time/],
    ['{"value":"v","timestamp":"2026-13-01T00:00:00Z"}', /is not a time/],
    ['{"value":"v","timestamp":"2026-01-01T24:00:00Z"}', /is not a time/],
    ['{"value":"v","timestamp":-5}', /is not a time/],
    ['{"value":"v","headers":[{"value":"x"}]}', /header 1 needs a string "key"/],
    ['{"value":"v","headers":[{"key":"k","valu":"x"}]}', /header 1 has an unknown field "valu"/],
    ['{"value":"v","headers":"h=x"}', /"headers" must be an array/],
    ['{"valu":"typo"}', /the envelope has an unknown field "valu" \(fields: topic, partition, offset, timestamp, key, key_encoding, value, value_encoding, headers\)/],
    ['{"key":"k"}', /the envelope has no "value" \(write "value": null for a record without one\)/],
    ['{}', /the envelope has no "value"/],
  ])('refuses %s', (line, message) => {
    expect(() => decodeEnvelope(Buffer.from(line))).toThrow(EnvelopeError)
    expect(() => decodeEnvelope(Buffer.from(line))).toThrow(message)
  })

  it('refuses a line that is not UTF-8', () => {
    expect(() => decodeEnvelope(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow('line is not valid UTF-8')
  })
})
