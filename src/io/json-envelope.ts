import {isUtf8} from 'node:buffer'
import type {Header, RecordBatch} from '../core/record.js'
import {ABSOLUTE_TIME_HELP, LATEST_TIME, parseAbsoluteTime} from '../core/timestamps.js'
import {type SchemaTag, isDecoded} from '../schemas/decoded.js'
import {parseJson} from '../schemas/json-text.js'

/**
 * The JSON envelope, one per line, that `consume --json` writes and `produce --input json` reads:
 *
 *   {"topic":"t","partition":0,"offset":7,"timestamp":1764064800000,"key":"k","value":"v",
 *    "headers":[{"key":"h","value":"x"}]}
 *
 * Bytes that are not valid UTF-8 are written in base64 and flagged with "key_encoding", "value_encoding"
 * (and "value_encoding" inside a header), so every record survives the round trip exactly.
 */
export interface EnvelopeInput {
  partition?: number
  timestamp?: number
  key: Buffer | null
  value: Buffer | null
  headers: Header[]
}

export function bytesField(name: string, bytes: Buffer | null): string {
  if (bytes === null) return `"${name}":null`
  if (isUtf8(bytes)) return `"${name}":${JSON.stringify(bytes.toString('utf8'))}`
  return `"${name}":"${bytes.toString('base64')}","${name}_encoding":"base64"`
}

/** A decoded key or value (--decode): its JSON as the field's value, and which schema it was framed with. */
function decodedField(name: string, json: string, tag: SchemaTag): string {
  return `"${name}":${json},"${name}_schema":{"id":${tag.id},"type":"${tag.type}"}`
}

export function encodeEnvelope(batch: RecordBatch, index: number): string {
  if (isDecoded(batch)) {
    const key = batch.keyJsonAt(index)
    const value = batch.valueJsonAt(index)
    if (key !== undefined || value !== undefined)
      return envelopeWith(
        batch,
        index,
        key === undefined ? bytesField('key', batch.keyAt(index)) : decodedField('key', key, batch.keySchemaAt(index)!),
        value === undefined ? bytesField('value', batch.valueAt(index)) : decodedField('value', value, batch.valueSchemaAt(index)!),
      )
  }
  return envelopeWith(batch, index, bytesField('key', batch.keyAt(index)), bytesField('value', batch.valueAt(index)))
}

export function headersJson(headers: readonly Header[]): string {
  let json = '['
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!
    json += `${i > 0 ? ',' : ''}{"key":${JSON.stringify(h.key)},${bytesField('value', h.value)}}`
  }
  return `${json}]`
}

function envelopeWith(batch: RecordBatch, index: number, key: string, value: string): string {
  return (
    `{"topic":${JSON.stringify(batch.topic)},"partition":${batch.partition},"offset":${batch.offsetAt(index)},` +
    `"timestamp":${batch.timestampAt(index)},${key},${value},"headers":${headersJson(batch.headersAt(index))}}`
  )
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Thrown for a line that is not a valid envelope; the caller adds the line number. */
export class EnvelopeError extends Error {}

function decodeBytes(object: Record<string, unknown>, name: string, where: string): Buffer | null {
  const value = object[name]
  const encoding = object[`${name}_encoding`]
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') throw new EnvelopeError(`${where}"${name}" must be a string or null`)
  if (encoding === undefined || encoding === null || encoding === 'utf8' || encoding === 'utf-8') return Buffer.from(value, 'utf8')
  if (encoding === 'base64') {
    if (!BASE64.test(value)) throw new EnvelopeError(`${where}"${name}" is not valid base64`)
    return Buffer.from(value, 'base64')
  }
  throw new EnvelopeError(`${where}"${name}_encoding" must be "base64" or "utf8", not ${JSON.stringify(encoding)}`)
}

function decodeHeaders(raw: unknown): Header[] {
  if (raw === undefined || raw === null) return []
  if (Array.isArray(raw))
    return raw.map((entry, i) => {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        throw new EnvelopeError(`header ${i + 1} must be an object {"key":..,"value":..}`)
      const header = entry as Record<string, unknown>
      refuseUnknownFields(header, HEADER_FIELDS, `header ${i + 1} `)
      if (typeof header.key !== 'string') throw new EnvelopeError(`header ${i + 1} needs a string "key"`)
      return {key: header.key, value: decodeBytes(header, 'value', `header ${i + 1}: `)}
    })
  if (typeof raw === 'object')
    return Object.entries(raw as Record<string, unknown>).map(([key, value]) => {
      if (value !== null && typeof value !== 'string') throw new EnvelopeError(`header "${key}" must be a string or null`)
      return {key, value: value === null ? null : Buffer.from(value, 'utf8')}
    })
  throw new EnvelopeError('"headers" must be an array of {"key","value"} objects')
}

/** The fields an envelope may have; "topic" and "offset" are read but ignored: the store assigns those. */
const ENVELOPE_FIELDS = new Set(['topic', 'partition', 'offset', 'timestamp', 'key', 'key_encoding', 'value', 'value_encoding', 'headers'])
const HEADER_FIELDS = new Set(['key', 'value', 'value_encoding'])
const SCHEMA_ENVELOPE_FIELDS = new Set([...ENVELOPE_FIELDS, 'key_schema', 'value_schema'])

/** A misspelt field would otherwise be dropped in silence (a "valu" would store a tombstone). */
function refuseUnknownFields(object: Record<string, unknown>, known: Set<string>, where: string): void {
  for (const name of Object.keys(object)) {
    if (known.has(name)) continue
    // consume --decode --json's envelopes carry the schemas their documents were decoded with.
    if (SCHEMA_FIELDS.has(name))
      throw new EnvelopeError(`${where}has a decoded document ("${name}"): to encode it again, give produce --${name.replace('_', '-')} (e.g. @SUBJECT), or copy the bytes with consume --json (no --decode)`)
    throw new EnvelopeError(`${where}has an unknown field ${JSON.stringify(name)} (fields: ${[...known].join(', ')})`)
  }
}
const SCHEMA_FIELDS = new Set(['key_schema', 'value_schema'])

/**
 * Which fields are JSON documents for a schema to encode (produce --value-schema / --key-schema) rather
 * than bytes: returned as parsed values, with integers beyond 2^53 kept exact.
 */
export interface SchemaFields {
  key: boolean
  value: boolean
}

export interface SchemaEnvelopeInput extends EnvelopeInput {
  keyDocument?: unknown
  valueDocument?: unknown
}

/** Parses one envelope line. Every field must be one spool knows, and "value" must be there (null for a tombstone). */
export function decodeEnvelope(line: Buffer, schemaFields?: SchemaFields): SchemaEnvelopeInput {
  const object = parseObject(line, schemaFields !== undefined)
  if (!('value' in object)) throw new EnvelopeError('the envelope has no "value" (write "value": null for a record without one)')
  // A document field is taken as it is; "value_schema" and "key_schema" (what consume --decode --json prints) are ignored.
  const valueDocument = schemaFields?.value ? takeDocument(object, 'value') : undefined
  const keyDocument = schemaFields?.key ? takeDocument(object, 'key') : undefined
  const {key = null, value = null, headers = [], ...rest} = decodeFields(object)
  return {key, value, headers, ...rest, keyDocument, valueDocument}
}

/** Removes a field that holds a JSON document for a schema (and its schema tag) from the envelope. */
function takeDocument(object: Record<string, unknown>, name: 'key' | 'value'): unknown {
  if (object[`${name}_encoding`] !== undefined) throw new EnvelopeError(`"${name}_encoding" does not go with a schema: "${name}" is a JSON document`)
  const document = object[name]
  delete object[name]
  delete object[`${name}_schema`]
  return document
}

/** Fields an envelope changes (an --exec answer): undefined where the line leaves a field out. */
export interface EnvelopeChanges {
  partition?: number
  timestamp?: number
  key?: Buffer | null
  value?: Buffer | null
  headers?: Header[]
}

export function decodeEnvelopeChanges(line: Buffer): EnvelopeChanges {
  return decodeFields(parseObject(line))
}

function parseObject(line: Buffer, exactIntegers = false): Record<string, unknown> {
  if (!isUtf8(line)) throw new EnvelopeError('line is not valid UTF-8')
  let parsed: unknown
  try {
    parsed = exactIntegers ? parseJson(line.toString('utf8')) : JSON.parse(line.toString('utf8'))
  } catch (error) {
    throw new EnvelopeError(`not valid JSON (${(error as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new EnvelopeError('expected a JSON object like {"key":..,"value":..}')
  const object = parsed as Record<string, unknown>
  refuseUnknownFields(object, exactIntegers ? SCHEMA_ENVELOPE_FIELDS : ENVELOPE_FIELDS, 'the envelope ')
  return object
}

function decodeFields(object: Record<string, unknown>): EnvelopeChanges {
  const envelope: EnvelopeChanges = {}
  if ('key' in object) envelope.key = decodeBytes(object, 'key', '')
  if ('value' in object) envelope.value = decodeBytes(object, 'value', '')
  if ('headers' in object) envelope.headers = decodeHeaders(object.headers)
  if (object.partition !== undefined && object.partition !== null) {
    if (!Number.isInteger(object.partition) || (object.partition as number) < 0)
      throw new EnvelopeError('"partition" must be a whole number >= 0')
    envelope.partition = object.partition as number
  }
  if (object.timestamp !== undefined && object.timestamp !== null) {
    const ts = object.timestamp
    const ms = typeof ts === 'number' ? (Number.isSafeInteger(ts) && ts >= 0 && ts <= LATEST_TIME ? ts : undefined) : typeof ts === 'string' ? parseAbsoluteTime(ts) : undefined
    if (ms === undefined || ms < 0)
      throw new EnvelopeError(`"timestamp" ${JSON.stringify(ts)} is not a time: use ${ABSOLUTE_TIME_HELP}, from 0 to ${LATEST_TIME} (+275760-09-13)`)
    envelope.timestamp = ms
  }
  return envelope
}
