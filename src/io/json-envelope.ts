import {isUtf8} from 'node:buffer'
import type {FeedRecord, Header, RecordBatch} from '../core/record.js'

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

function bytesField(name: string, bytes: Buffer | null): string {
  if (bytes === null) return `"${name}":null`
  if (isUtf8(bytes)) return `"${name}":${JSON.stringify(bytes.toString('utf8'))}`
  return `"${name}":"${bytes.toString('base64')}","${name}_encoding":"base64"`
}

export function encodeEnvelope(batch: RecordBatch, index: number): string {
  const headers = batch.headersAt(index)
  let headerJson = '['
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!
    headerJson += `${i > 0 ? ',' : ''}{"key":${JSON.stringify(h.key)},${bytesField('value', h.value)}}`
  }
  headerJson += ']'
  return (
    `{"topic":${JSON.stringify(batch.topic)},"partition":${batch.partition},"offset":${batch.offsetAt(index)},` +
    `"timestamp":${batch.timestampAt(index)},${bytesField('key', batch.keyAt(index))},` +
    `${bytesField('value', batch.valueAt(index))},"headers":${headerJson}}`
  )
}

export function envelopeOf(record: FeedRecord): Record<string, unknown> {
  return JSON.parse(encodeEnvelope(singleRecordBatch(record), 0)) as Record<string, unknown>
}

function singleRecordBatch(record: FeedRecord): RecordBatch {
  return {
    topic: record.topic,
    partition: record.partition,
    count: 1,
    offsetAt: () => record.offset,
    timestampAt: () => record.timestamp,
    keyAt: () => record.key,
    valueAt: () => record.value,
    headersAt: () => record.headers,
    valueLength: () => record.value?.length ?? -1,
    copyValue: (_i, target, position) => (record.value === null ? -1 : record.value.copy(target, position)),
  }
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

/** Parses one envelope line. Unknown fields are ignored, and so are "topic" and "offset": the store assigns those. */
export function decodeEnvelope(line: Buffer): EnvelopeInput {
  if (!isUtf8(line)) throw new EnvelopeError('line is not valid UTF-8')
  let parsed: unknown
  try {
    parsed = JSON.parse(line.toString('utf8'))
  } catch (error) {
    throw new EnvelopeError(`not valid JSON (${(error as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new EnvelopeError('expected a JSON object like {"key":..,"value":..}')
  const object = parsed as Record<string, unknown>
  const envelope: EnvelopeInput = {
    key: decodeBytes(object, 'key', ''),
    value: decodeBytes(object, 'value', ''),
    headers: decodeHeaders(object.headers),
  }
  if (object.partition !== undefined && object.partition !== null) {
    if (!Number.isInteger(object.partition) || (object.partition as number) < 0)
      throw new EnvelopeError('"partition" must be a whole number >= 0')
    envelope.partition = object.partition as number
  }
  if (object.timestamp !== undefined && object.timestamp !== null) {
    const ts = object.timestamp
    if (typeof ts === 'number' && Number.isSafeInteger(ts) && ts >= 0) envelope.timestamp = ts
    else if (typeof ts === 'string' && !Number.isNaN(Date.parse(ts))) envelope.timestamp = Date.parse(ts)
    else throw new EnvelopeError('"timestamp" must be epoch milliseconds or an RFC 3339 string')
  }
  return envelope
}
