import type {ByteColumn, RecordBatch} from '../core/record.js'
import {bytesField, headersJson} from './json-envelope.js'
import type {BufferedOutput} from './output.js'

/**
 * consume --json for batches that keep their keys and values in byte columns (the local store's): the
 * envelope of json-envelope.ts written straight into the output's bytes, with no string and no object
 * per record. A key or value is copied between quotes as it is stored when every byte of it is printable
 * ASCII other than '"' and '\' (JSON.stringify of its UTF-8 text gives back exactly those bytes). Any
 * other key or value (control characters, quotes, backslashes, any byte >= 0x80: UTF-8 text to check,
 * or bytes that are not UTF-8 and go out as base64) is written by json-envelope.ts's own bytesField, and
 * headers by its headersJson, so the bytes out are those of encodeEnvelope whichever way a field goes
 * (test/unit/envelope-bytes.test.ts compares the two on such records).
 */
export function writeEnvelopes(batch: RecordBatch, start: number, end: number, out: BufferedOutput): void {
  if (end <= start) return
  const values = batch.valueColumn!()
  const keys = batch.keyColumn?.()
  const valueAsIs = plainRecords(values, start, end)
  const keyAsIs = keys ? plainRecords(keys, start, end) : undefined
  const template = new EnvelopeTemplate(batch.topic, batch.partition)
  const vBuf = values.buf
  const vStarts = values.starts
  const vLengths = values.lengths
  let chunk = out.reserve(0)
  let at = out.offset
  for (let i = start; i < end; i++) {
    template.set(batch.offsetAt(i), batch.timestampAt(i))
    const v = values.first + i
    const valueLength = vLengths[v]!
    const valueText = valueAsIs[i - start] ? undefined : bytesField('value', batch.valueAt(i))
    let keyLength = -1
    let keyText: string | undefined
    if (keys) {
      keyLength = keys.lengths[keys.first + i]!
      if (!keyAsIs![i - start]) keyText = bytesField('key', batch.keyAt(i))
    }
    const headers = batch.headersAt(i)
    const headerText = headers.length > 0 ? headersJson(headers) : undefined
    const need =
      template.length +
      (keyText === undefined ? KEY_NULL.length + Math.max(keyLength, 0) : Buffer.byteLength(keyText) + 1) +
      (valueText === undefined ? VALUE_NULL.length + Math.max(valueLength, 0) : Buffer.byteLength(valueText) + 1) +
      (headerText === undefined ? NO_HEADERS.length : HEADERS.length + Buffer.byteLength(headerText) + END.length)
    if (at + need > chunk.length) {
      out.advance(at - out.offset)
      chunk = out.reserve(need)
      at = out.offset
    }
    if (keyLength < 0 && keyText === undefined && valueText === undefined && valueLength >= 0) {
      // The common envelope: no key, a value as it is; the template runs up to the value's text.
      at += template.bytes.copy(chunk, at, 0, template.length)
      at = putValue(chunk, at, vBuf, vStarts[v]!, valueLength, headerText)
      continue
    }
    at += template.bytes.copy(chunk, at, 0, template.stampEnd)
    if (keyText !== undefined) {
      chunk[at++] = COMMA
      at += chunk.write(keyText, at, 'utf8')
    } else if (keyLength >= 0) {
      chunk.set(KEY_OPEN, at)
      at += KEY_OPEN.length
      const from = keys!.starts[keys!.first + i]!
      if (keyLength > 0) at += keys!.buf.copy(chunk, at, from, from + keyLength)
      chunk[at++] = QUOTE
    } else {
      chunk.set(KEY_NULL, at)
      at += KEY_NULL.length
    }
    if (valueText !== undefined) {
      chunk[at++] = COMMA
      at += chunk.write(valueText, at, 'utf8')
    } else if (valueLength >= 0) {
      chunk.set(VALUE_OPEN, at)
      at = putValue(chunk, at + VALUE_OPEN.length, vBuf, vStarts[v]!, valueLength, headerText)
      continue
    } else {
      chunk.set(VALUE_NULL, at)
      at += VALUE_NULL.length
    }
    at = putHeaders(chunk, at, headerText)
  }
  out.advance(at - out.offset)
}

/**
 * The bytes of an envelope up to its value's text, for a record without a key:
 * `{"topic":T,"partition":P,"offset":O,"timestamp":TS,"key":null,"value":"`. Records of a batch follow
 * on in offset and often share a timestamp (a produce stamps a whole read of its input at once), so
 * from one record to the next usually only the offset's last digit changes: it is counted up in place,
 * and the envelope's start costs one copy.
 */
class EnvelopeTemplate {
  readonly bytes: Buffer
  /** Where the offset's digits start and end. */
  private readonly offsetStart: number
  private offsetEnd = 0
  /** Where the timestamp's digits end (the key's field follows). */
  stampEnd = 0
  /** The whole template, to the value's opening quote. */
  length = 0
  private offset = -1
  private timestamp = Number.NaN

  constructor(topic: string, partition: number) {
    const head = Buffer.from(`{"topic":${JSON.stringify(topic)},"partition":${partition},"offset":`, 'utf8')
    this.bytes = Buffer.alloc(head.length + 2 * MAX_DIGITS + TIMESTAMP.length + KEY_NULL_VALUE_OPEN.length)
    this.offsetStart = head.copy(this.bytes, 0)
  }

  set(offset: number, timestamp: number): void {
    if (timestamp === this.timestamp && offset === this.offset + 1 && this.countUp()) {
      this.offset = offset
      return
    }
    const bytes = this.bytes
    this.offset = offset
    this.timestamp = timestamp
    let at = putNumber(bytes, this.offsetStart, offset)
    this.offsetEnd = at
    bytes.set(TIMESTAMP, at)
    at = putNumber(bytes, at + TIMESTAMP.length, timestamp)
    this.stampEnd = at
    bytes.set(KEY_NULL_VALUE_OPEN, at)
    this.length = at + KEY_NULL_VALUE_OPEN.length
  }

  /** Adds one to the offset's decimal digits; false when it needs one more digit (or is not one: 1e21). */
  private countUp(): boolean {
    const bytes = this.bytes
    for (let i = this.offsetEnd - 1; i >= this.offsetStart; i--) {
      const digit = bytes[i]!
      if (digit < 0x30 || digit > 0x39) return false
      if (digit < 0x39) {
        bytes[i] = digit + 1
        return true
      }
      bytes[i] = 0x30
    }
    return false
  }
}

/** A value's text as it is, its closing quote and the rest of the envelope. */
function putValue(chunk: Buffer, at: number, bytes: Buffer, from: number, length: number, headerText: string | undefined): number {
  if (length > 0) at += bytes.copy(chunk, at, from, from + length)
  if (headerText === undefined) {
    chunk.set(QUOTE_NO_HEADERS, at)
    return at + QUOTE_NO_HEADERS.length
  }
  chunk[at++] = QUOTE
  return putHeaders(chunk, at, headerText)
}

function putHeaders(chunk: Buffer, at: number, headerText: string | undefined): number {
  if (headerText === undefined) {
    chunk.set(NO_HEADERS, at)
    return at + NO_HEADERS.length
  }
  chunk.set(HEADERS, at)
  at += HEADERS.length
  at += chunk.write(headerText, at, 'utf8')
  chunk.set(END, at)
  return at + END.length
}

const COMMA = 0x2c
const QUOTE = 0x22
const TIMESTAMP = Buffer.from(',"timestamp":')
const KEY_NULL = Buffer.from(',"key":null')
const KEY_OPEN = Buffer.from(',"key":"')
const VALUE_NULL = Buffer.from(',"value":null')
const VALUE_OPEN = Buffer.from(',"value":"')
const KEY_NULL_VALUE_OPEN = Buffer.from(',"key":null,"value":"')
const QUOTE_NO_HEADERS = Buffer.from('","headers":[]}\n')
const NO_HEADERS = Buffer.from(',"headers":[]}\n')
const HEADERS = Buffer.from(',"headers":')
const END = Buffer.from('}\n')
/** More than the longest a number JSON prints can be (-0.0000012345678912345678 is 25 characters). */
const MAX_DIGITS = 32

/** A number as JSON prints it (as String(n) does): whole numbers digit by digit, anything else by String(n). */
function putNumber(target: Buffer, at: number, n: number): number {
  if (!(n >= 0 && Number.isSafeInteger(n))) return at + target.write(String(n), at, 'latin1')
  let digits = 1
  for (let p = 10; p <= n; p *= 10) digits++
  let i = at + digits
  do {
    const q = Math.floor(n / 10)
    target[--i] = 0x30 + (n - q * 10)
    n = q
  } while (n > 0)
  return at + digits
}

const NEWLINE = 0x0a

/**
 * plainRecords for values each followed by a newline (the local store's plain lines), where bytes
 * [from, to) hold `separators` newlines between the values. Read as if every newline were a separator,
 * the record a byte belongs to is the count of newlines before it, and the scan reads newlines as '*'
 * (only a word with another special byte is looked at byte by byte). That holds when the bytes have no
 * other newline, which the count tells at the end: if some value has a newline of its own, nothing is
 * marked and it returns false, for plainRecords to tell the separators from the values' newlines record
 * by record. (That way every separator took the byte-by-byte path: --json of plain lines 10% slower.)
 */
function newlineSeparatedPlain(buf: Buffer, from: number, to: number, separators: number, plain: Uint8Array): boolean {
  let newlines = 0
  const look = (at: number) => {
    const byte = buf[at]!
    if (byte === NEWLINE) newlines++
    // Past the records when a value has a newline of its own: a typed array ignores the write.
    else if (SPECIAL[byte]) plain[newlines] = 0
  }
  let at = from
  const aligned = Math.min(to, from + ((4 - ((buf.byteOffset + from) & 3)) & 3))
  for (; at < aligned; at++) look(at)
  const words = (to - at) >> 2
  if (words > 0) {
    const column32 = new Int32Array(buf.buffer, buf.byteOffset + at, words)
    for (let k = 0; k < words; k++) {
      const w = column32[k]!
      if (!specialIn(w)) continue
      // 0x80 in each byte of w that is a newline (exact: no carry crosses bytes). Moved to 0x20, it turns
      // the newlines into '*': a word whose only special bytes are newlines is counted, not looked into.
      const x = w ^ 0x0a0a0a0a
      const isNewline = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080
      if (isNewline !== 0 && !specialIn(w | (isNewline >>> 2))) newlines += Math.imul(isNewline >>> 7, 0x01010101) >>> 24
      else for (let b = at + k * 4; b < at + k * 4 + 4; b++) look(b)
    }
    at += words * 4
  }
  for (; at < to; at++) look(at)
  if (newlines === separators) return true
  plain.fill(1)
  return false
}

/** Whether a byte of the word (four bytes of the column) is below 0x20, a '"', a '\\' or 0x80 or above (see plainRecords). */
function specialIn(w: number): boolean {
  const quote = w ^ 0x22222222
  const backslash = w ^ 0x5c5c5c5c
  return ((((w - 0x20202020) & ~w) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash) | w) & 0x80808080) !== 0
}

/** 1 for the bytes that JSON text may not hold as they are (or that may not be UTF-8 on their own). */
const SPECIAL = new Uint8Array(256).map((_, byte) => (byte < 0x20 || byte === 0x22 || byte === 0x5c || byte >= 0x80 ? 1 : 0))

/**
 * For records [start, end) of the column: 1 where the record's bytes can be copied between quotes as
 * they are. The column is scanned four bytes at a time (the batch of a 100-byte line has about 10,000
 * records in one run of bytes): a word has a byte below 0x20, a '"', a '\\' or a byte >= 0x80 when the
 * high bit of one of its bytes is set in `((w - 0x20202020) & ~w) | haszero(w ^ 0x22222222) |
 * haszero(w ^ 0x5c5c5c5c) | w` (the carries of a subtraction only ever flag a byte above one that is
 * itself flagged). Only a flagged word's bytes are looked at one by one.
 */
export function plainRecords(column: ByteColumn, start: number, end: number): Uint8Array {
  const {buf, starts, lengths} = column
  const first = column.first + start
  const last = column.first + end - 1
  const plain = new Uint8Array(end - start).fill(1)
  const from = starts[first]!
  const to = starts[last]! + Math.max(lengths[last]!, 0)
  if (to <= from) return plain
  if (column.separator === NEWLINE && newlineSeparatedPlain(buf, from, to, end - start - 1, plain)) return plain
  let record = first
  /** Marks the record holding byte `at` (records ascend through the column). */
  const mark =
    column.separator === undefined
      ? (at: number) => {
          while (starts[record]! + Math.max(lengths[record]!, 0) <= at) record++
          plain[record - first] = 0
        }
      : (at: number) => {
          // Values each followed by a separator (the local store's newline): the byte just after a value
          // is its separator, not part of any value.
          while (starts[record]! + Math.max(lengths[record]!, 0) < at) record++
          if (starts[record]! + Math.max(lengths[record]!, 0) !== at) plain[record - first] = 0
        }
  let at = from
  const aligned = Math.min(to, from + ((4 - ((buf.byteOffset + from) & 3)) & 3))
  for (; at < aligned; at++) if (SPECIAL[buf[at]!]) mark(at)
  const words = (to - at) >> 2
  if (words > 0) {
    const column32 = new Int32Array(buf.buffer, buf.byteOffset + at, words)
    for (let k = 0; k < words; k++) {
      if (specialIn(column32[k]!)) {
        const byte = at + k * 4
        for (let b = byte; b < byte + 4; b++) if (SPECIAL[buf[b]!]) mark(b)
      }
    }
    at += words * 4
  }
  for (; at < to; at++) if (SPECIAL[buf[at]!]) mark(at)
  return plain
}
