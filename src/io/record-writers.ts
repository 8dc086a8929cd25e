import type {ByteColumn, RecordBatch} from '../core/record.js'
import {UsageError} from '../core/errors.js'
import {unescapeBytes} from './escapes.js'
import {isDecoded} from '../schemas/decoded.js'
import {encodeEnvelope} from './json-envelope.js'
import {writeEnvelopes} from './envelope-bytes.js'
import type {BufferedOutput} from './output.js'

/** Renders records of a batch into the output buffer. */
export interface RecordWriter {
  write(batch: RecordBatch, start: number, end: number, out: BufferedOutput): void
}

/** The default: each value followed by the delimiter, bytes copied as they are stored. */
export class ValueWriter implements RecordWriter {
  /** The delimiter is a newline: a decoded batch's valueLines is then already the output. */
  private readonly newline: boolean

  constructor(private readonly delimiter: Buffer = Buffer.from('\n')) {
    this.newline = delimiter.length === 1 && delimiter[0] === 0x0a
  }

  write(batch: RecordBatch, start: number, end: number, out: BufferedOutput): void {
    if (this.newline && batch.valueLines) {
      const lines = batch.valueLines(start, end)
      if (lines !== undefined) return out.writeBytes(lines)
    }
    const delimiter = this.delimiter
    const single = delimiter.length === 1 ? delimiter[0]! : -1
    if (batch.valueColumn && single >= 0) return writeColumn(batch.valueColumn(), start, end, single, out)
    for (let i = start; i < end; i++) {
      const length = batch.valueLength(i)
      const target = out.reserve(Math.max(length, 0) + delimiter.length)
      let at = out.offset
      if (length > 0) at += batch.copyValue(i, target, at)
      if (single >= 0) target[at++] = single
      else at += delimiter.copy(target, at)
      out.advance(at - out.offset)
    }
  }
}

/**
 * Values straight from a batch's value column, each followed by a one-byte delimiter. Values that lie
 * back to back in the column (all of a local batch's do) are copied into the output chunk as one run,
 * then moved apart in place, from the last, to make room for the delimiters: `copyWithin` is a V8
 * builtin, where a `Buffer.copy` per record went through Node's argument checks and its C++ binding
 * (about twice the time per 100-byte record).
 */
function writeColumn(column: ByteColumn, start: number, end: number, delimiter: number, out: BufferedOutput): void {
  if (column.separator !== undefined) return writeSeparated(column, column.separator, start, end, delimiter, out)
  const {buf, starts, lengths} = column
  const last = column.first + end
  let chunk = out.reserve(0)
  let at = out.offset
  let i = column.first + start
  while (i < last) {
    // The run from record i: the records that follow on from it in `buf` and fit in the chunk with their
    // delimiters. A null value (length -1) is an empty run member: only its delimiter is written.
    const runStart = starts[i]!
    let runEnd = runStart
    let room = chunk.length - at
    let j = i
    while (j < last) {
      const length = lengths[j]! > 0 ? lengths[j]! : 0
      if (starts[j] !== runEnd || length >= room) break
      runEnd += length
      room -= length + 1
      j++
    }
    if (j === i) {
      // Record i does not fit in what is left of the chunk: the next chunk (one big enough for it).
      out.advance(at - out.offset)
      chunk = out.reserve(Math.max(lengths[i]!, 0) + 1)
      at = out.offset
      continue
    }
    if (runEnd > runStart) buf.copy(chunk, at, runStart, runEnd)
    // Record k moves right by k - i, the delimiters before it; from the last, so that no record is
    // overwritten before it has moved.
    for (let k = j - 1; k >= i; k--) {
      const from = at + starts[k]! - runStart
      const length = lengths[k]! > 0 ? lengths[k]! : 0
      const to = from + k - i
      if (to !== from && length > 0) chunk.copyWithin(to, from, from + length)
      chunk[to + length] = delimiter
    }
    at += runEnd - runStart + (j - i)
    i = j
  }
  out.advance(at - out.offset)
}

/** Output of one batch from which its bytes go to the stream without a copy (BufferedOutput.writeShared). */
const SHARED_FROM_BYTES = 64 * 1024

/**
 * writeColumn for values each followed by a separator byte in `buf` (the local store's plain lines): the
 * values with their separators are the output already when the delimiter is the separator, so each run
 * that fits in the output chunk is one copy; another delimiter is written over each separator after it.
 */
function writeSeparated(column: ByteColumn, separator: number, start: number, end: number, delimiter: number, out: BufferedOutput): void {
  const {buf, starts, lengths} = column
  const last = column.first + end
  let i = column.first + start
  if (delimiter === separator && i < last) {
    const from = starts[i]!
    const to = starts[last - 1]! + Math.max(lengths[last - 1]!, 0) + 1
    // A batch's worth goes to the stream as it lies in the batch; a few records are copied, which costs
    // less than a write of their own.
    if (to - from >= SHARED_FROM_BYTES) return out.writeShared(buf.subarray(from, to))
  }
  while (i < last) {
    const chunk = out.reserve(Math.max(lengths[i]!, 0) + 1)
    const at = out.offset
    const runStart = starts[i]!
    const room = chunk.length - at
    // Starts ascend with the separators between them: the run ends before the first record that would
    // not fit (there is always one that fits, the chunk was reserved for it).
    let j = i + 1
    while (j < last && starts[j]! + Math.max(lengths[j]!, 0) + 1 - runStart <= room) j++
    const runEnd = starts[j - 1]! + Math.max(lengths[j - 1]!, 0) + 1
    buf.copy(chunk, at, runStart, runEnd)
    if (delimiter !== separator) for (let k = i; k < j; k++) chunk[at + starts[k]! - runStart + Math.max(lengths[k]!, 0)] = delimiter
    out.advance(runEnd - runStart)
    i = j
  }
}

/** One JSON envelope per line (see json-envelope.ts). */
export class JsonWriter implements RecordWriter {
  write(batch: RecordBatch, start: number, end: number, out: BufferedOutput): void {
    if (batch.valueColumn && !isDecoded(batch)) return writeEnvelopes(batch, start, end, out)
    for (let i = start; i < end; i++) {
      out.writeString(encodeEnvelope(batch, i))
      out.writeByte(0x0a)
    }
  }
}

type Part = Buffer | ((batch: RecordBatch, i: number, out: BufferedOutput) => void)

export const FORMAT_HELP = `%t topic, %p partition, %o offset, %T timestamp (ms), %k key, %K key length, %v or %s value, %S value length, %h headers (name=value,...), %% a percent sign; escapes \\n \\t \\r \\0 \\\\ \\xNN`

const COMMA = Buffer.from(',')
const EQUALS = Buffer.from('=')

const TOKENS: Record<string, (batch: RecordBatch, i: number, out: BufferedOutput) => void> = {
  t: (b, _i, out) => out.writeString(b.topic),
  p: (b, _i, out) => out.writeString(String(b.partition)),
  o: (b, i, out) => out.writeString(String(b.offsetAt(i))),
  T: (b, i, out) => out.writeString(String(b.timestampAt(i))),
  k: (b, i, out) => {
    const key = b.keyAt(i)
    if (key) out.writeBytes(key)
  },
  K: (b, i, out) => out.writeString(String(b.keyAt(i)?.length ?? -1)),
  v: (b, i, out) => {
    const length = b.valueLength(i)
    if (length > 0) out.advance(b.copyValue(i, out.reserve(length), out.offset))
  },
  S: (b, i, out) => out.writeString(String(b.valueLength(i))),
  h: (b, i, out) => {
    const headers = b.headersAt(i)
    for (let n = 0; n < headers.length; n++) {
      if (n > 0) out.writeBytes(COMMA)
      out.writeString(headers[n]!.key)
      out.writeBytes(EQUALS)
      if (headers[n]!.value) out.writeBytes(headers[n]!.value!)
    }
  },
}
TOKENS.s = TOKENS.v!

/** kcat-style format strings, e.g. '%p/%o %k=%v\n'. */
export class FormatWriter implements RecordWriter {
  private readonly parts: Part[]

  constructor(format: string) {
    this.parts = compileFormat(format)
  }

  write(batch: RecordBatch, start: number, end: number, out: BufferedOutput): void {
    const parts = this.parts
    for (let i = start; i < end; i++)
      for (const part of parts) {
        if (typeof part === 'function') part(batch, i, out)
        else out.writeBytes(part)
      }
  }
}

function compileFormat(format: string): Part[] {
  const parts: Part[] = []
  let literal = ''
  const pushLiteral = () => {
    if (literal) parts.push(unescapeBytes(literal, '--format'))
    literal = ''
  }
  for (let i = 0; i < format.length; i++) {
    const char = format[i]!
    if (char !== '%') {
      literal += char
      continue
    }
    const token = format[++i]
    if (token === '%') {
      literal += '%'
      continue
    }
    const render = token === undefined ? undefined : TOKENS[token]
    if (!render)
      throw new UsageError(`--format has an unknown token '%${token ?? ''}'`, `use ${FORMAT_HELP}`)
    pushLiteral()
    parts.push(render)
  }
  pushLiteral()
  return parts
}
