/**
 * Avro codec, in Avro's JSON encoding:
 * - unions wrapped ({"branch": value}, null as null, named types by full name), which is also how avsc's
 *   `wrapUnions: true` holds them in memory;
 * - longs as exact integers (numbers when safe, bigints beyond 2^53);
 * - bytes and fixed as strings of \u0000-\u00FF code points, enums as their symbols, logical types as
 *   their underlying type (no logical type implementations are registered).
 * avsc parses and resolves the schemas. Decoding reads the bytes straight into JSON text, and encoding
 * writes a parsed document straight to bytes, with readers and writers built once per type; avsc's own
 * writer (with an exact long type) takes only values that leave fields to their defaults.
 */
import type * as Avsc from 'avsc'
import {collectReferences, describeValue, parseSchemaJson, propertyStep} from './codecs.js'
import {JsonBytes} from './json-bytes.js'
import {SchemaParseError, SchemaPayloadError, SchemaValueError, type ReferenceResolver, type SchemaCodec, type SchemaText} from './types.js'

type AvscModule = typeof Avsc

/** The parts of avsc's type objects this module reads (its typings do not describe all of them). */
interface AvroType {
  readonly typeName: string
  readonly name?: string
  readonly fields?: ReadonlyArray<{name: string; type: AvroType; defaultValue(): unknown}>
  readonly symbols?: readonly string[]
  readonly size?: number
  readonly itemsType?: AvroType
  readonly valuesType?: AvroType
  readonly types?: readonly AvroType[]
  readonly branchName?: string
  /** Writes into `buffer` at `pos`: the end position, or minus the bytes missing when it does not fit. */
  encode(value: unknown, buffer: Buffer, pos: number): number
}

const MIN_LONG = -(2n ** 63n)
const MAX_LONG = 2n ** 63n - 1n

/** The part of avsc's Tap (its reading and writing cursor) the long type uses. */
interface Tap {
  buf: Buffer
  pos: number
  writeLong(value: number): void
}

function readExactLong(tap: Tap): number | bigint {
  const buf = tap.buf
  let pos = tap.pos
  let byte = buf[pos++]!
  if (byte < 0x80) {
    tap.pos = pos
    return (byte >>> 1) ^ -(byte & 1)
  }
  // Up to 7 bytes (49 bits of zigzag) add up exactly in a double; beyond, in a bigint.
  let n = byte & 0x7f
  let scale = 128
  for (let i = 1; i < 7; i++) {
    byte = buf[pos++]!
    n += (byte & 0x7f) * scale
    if (byte < 0x80) {
      tap.pos = pos
      return n % 2 === 0 ? n / 2 : -(n + 1) / 2
    }
    scale *= 128
  }
  let big = BigInt(n)
  let shift = 49n
  do {
    byte = buf[pos++]!
    big |= BigInt(byte & 0x7f) << shift
    shift += 7n
  } while (byte >= 0x80 && shift < 70n)
  tap.pos = pos
  big &= 0xffffffffffffffffn
  const value = big & 1n ? -(big >> 1n) - 1n : big >> 1n
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value
}

function writeExactLong(tap: Tap, value: number | bigint): void {
  if (typeof value === 'number') {
    // avsc's own varint writer is exact for safe integers (isValid let only those through).
    tap.writeLong(value)
    return
  }
  const buf = tap.buf
  let n = (value >= 0n ? value << 1n : ((-value) << 1n) - 1n) & 0xffffffffffffffffn
  while (n >= 128n) {
    buf[tap.pos++] = Number(n & 0x7fn) | 0x80
    n >>= 7n
  }
  buf[tap.pos++] = Number(n)
}

function isExactLong(value: unknown): boolean {
  return typeof value === 'bigint' ? value >= MIN_LONG && value <= MAX_LONG : Number.isSafeInteger(value)
}

/**
 * A long that keeps every bit: numbers while they are safe integers, bigints beyond. It is avsc's custom
 * long type (LongType.__with), whose generic hooks copy every long through a Buffer of its own; reading
 * and writing the varint straight from avsc's cursor instead keeps decoding at avsc's native speed.
 */
function exactLongType(avro: AvscModule): unknown {
  const scratch = Buffer.alloc(10)
  const base = avro.types.LongType.__with(
    {
      fromBuffer(buffer: Buffer): number | bigint {
        return readExactLong({buf: buffer, pos: 0, writeLong() {}})
      },
      toBuffer(value: number | bigint): Buffer {
        const tap = {buf: scratch, pos: 0, writeLong: (n: number) => writeExactLong(tap, BigInt(n))}
        writeExactLong(tap, value)
        return scratch.subarray(0, tap.pos)
      },
      fromJSON(value: unknown): number | bigint {
        return typeof value === 'bigint' ? value : Number(value)
      },
      toJSON(value: number | bigint): number {
        return Number(value)
      },
      isValid: isExactLong,
      compare(a: number | bigint, b: number | bigint): number {
        return a < b ? -1 : a > b ? 1 : 0
      },
    },
    true,
  )
  const fast = Object.create(base) as {_read(tap: Tap): unknown; _write(tap: Tap, value: unknown): void}
  fast._read = readExactLong
  fast._write = (tap: Tap, value: unknown) => {
    if (!isExactLong(value)) throw new Error(`invalid long: ${describeValue(value)}`)
    writeExactLong(tap, value as number | bigint)
  }
  return Object.freeze(fast)
}

export async function compileAvro(schema: SchemaText, resolve: ReferenceResolver): Promise<SchemaCodec> {
  const avro = ((await import('avsc')) as unknown as {default: AvscModule}).default
  const longType = exactLongType(avro)
  const registry: Record<string, unknown> = {}
  const options = {
    registry,
    wrapUnions: true,
    typeHook: (definition: unknown) =>
      definition === 'long' || (typeof definition === 'object' && definition !== null && (definition as {type?: unknown}).type === 'long')
        ? longType
        : undefined,
  } as unknown as Partial<Avsc.ForSchemaOptions>
  const parse = (text: string, what: string): AvroType => {
    // A bare primitive or type name (`long`) is taken as its JSON string (`"long"`), as the registry prints it.
    const json = /^\s*[A-Za-z_][A-Za-z0-9_.]*\s*$/.test(text) ? text.trim() : parseSchemaJson(text, what)
    try {
      return avro.Type.forSchema(json as Avsc.Schema, options) as unknown as AvroType
    } catch (error) {
      throw new SchemaParseError(`${what}: ${(error as Error).message}`)
    }
  }
  for (const reference of await collectReferences(schema, resolve)) {
    if (reference.schema.type !== 'AVRO') throw new SchemaParseError(`Avro reference '${reference.name}' is a ${reference.schema.type} schema`)
    parse(reference.schema.schema, `referenced schema '${reference.name}'`)
  }
  const type = parse(schema.schema, 'Avro schema')
  return new AvroCodec(type)
}

const EMPTY = new Uint8Array(0)

class AvroCodec implements SchemaCodec {
  readonly type = 'AVRO' as const
  readonly #type: AvroType
  readonly #read: Reader
  readonly #write: BinaryWriter
  readonly #writeText: TextWriter
  readonly #convert: Converter | undefined

  constructor(type: AvroType) {
    this.#type = type
    this.#read = jsonReader(type, new Map())
    this.#write = binaryWriter(type, new Map())
    this.#writeText = textWriter(type, new Map())
    this.#convert = converter(type, new Map())
  }

  decodeToJson(bytes: Uint8Array, start = 0, stop = bytes.length): string {
    scratch.pos = 0
    this.decodeInto(bytes, start, stop, scratch)
    return scratch.text()
  }

  decodeInto(bytes: Uint8Array, start: number, stop: number, into: JsonBytes): void {
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    cursor.buf = buffer
    cursor.pos = start
    end = stop
    json = into
    const mark = into.pos
    try {
      this.#read(buffer)
    } catch (error) {
      into.pos = mark
      throw new SchemaPayloadError(`payload does not match the Avro schema: ${(error as Error).message}`)
    }
    if (cursor.pos !== stop) {
      into.pos = mark
      throw new SchemaPayloadError(
        cursor.pos > stop ? 'payload does not match the Avro schema: it ends too soon' : `payload does not match the Avro schema: ${stop - cursor.pos} bytes left over`,
      )
    }
  }

  encodeText(text: Buffer, start: number, end: number, prefix: Uint8Array = EMPTY): Buffer | undefined {
    src = text
    srcEnd = end
    begin(prefix)
    const stop = this.#writeText(skipSpace(start))
    if (stop >= 0 && skipSpace(stop) === srcEnd) return finish()
    out.pos = out.start
    return undefined
  }

  encode(value: unknown, prefix: Uint8Array = EMPTY): Buffer {
    // The direct writer takes values that spell out every field; one that leaves a field to its default
    // goes through avsc, which knows the defaults. Both write into the slab.
    begin(prefix)
    const payload = out.pos - out.start
    try {
      this.#write(value)
      return finish()
    } catch (error) {
      out.pos = out.start
      if (error !== USE_DEFAULTS) {
        const found = error === MISMATCH ? explain(this.#type, value, '') : undefined
        if (found) throw new SchemaValueError(found.path, found.detail)
        if (error !== MISMATCH) throw error
      }
    }
    try {
      const avscValue = this.#convert ? this.#convert(value) : value
      begin(prefix)
      for (;;) {
        const end = this.#type.encode(avscValue, out.buf, out.start + payload)
        if (end >= 0) {
          out.pos = end
          return finish()
        }
        // avsc answers with minus the bytes missing past the end of the buffer.
        out.pos = out.start + payload
        room(out.buf.length - end - out.pos)
      }
    } catch (error) {
      out.pos = out.start
      const found = explain(this.#type, value, '')
      if (found) throw new SchemaValueError(found.path, found.detail)
      throw new SchemaValueError('', (error as Error).message)
    }
  }
}

// ---- Avro binary -> JSON text ----
//
// Straight from the bytes to the JSON text's bytes, without avsc building a value first and without a
// string per field: for --decode the value is only ever printed. The readers share one cursor and write
// into one JsonBytes (a whole batch's worth, see RecordDecoder); every length and index is checked
// against the bytes, and decodeInto checks that the payload ended exactly where the schema did.

type Reader = (buf: Buffer) => void

const cursor: Tap = {buf: Buffer.alloc(0), pos: 0, writeLong() {}}
/** Where the payload being read ends (it may sit inside a larger buffer, such as a stored batch). */
let end = 0
/** Where the readers write. */
let json = new JsonBytes(0)
/** decodeToJson's buffer. */
const scratch = new JsonBytes(1024)

class Truncated extends Error {
  constructor() {
    super('it ends too soon')
  }
}

function readLong(): number | bigint {
  if (cursor.pos >= end) throw new Truncated()
  const value = readExactLong(cursor)
  if (cursor.pos > end) throw new Truncated()
  return value
}

function readCount(what: string): number {
  const value = readLong()
  if (typeof value !== 'number' || value < 0 || cursor.pos + value > end) throw new Error(`${what} of ${value} bytes runs past the end`)
  return value
}

/** An array or map block count: negative counts carry the block's size in bytes, which is skipped. */
function readBlockCount(): number {
  let count = readLong()
  if (typeof count !== 'number' || Math.abs(count) > end) throw new Error(`a block of ${count} items cannot fit`)
  if (count < 0) {
    count = -count
    readLong()
  }
  return count
}

const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * The string in bytes [from, to) as a JSON string. Printable ASCII without quote or backslash is its own
 * JSON text and is copied byte for byte; anything else (escapes, non-ASCII, invalid UTF-8, which reads
 * as U+FFFD) goes through JSON.stringify of the decoded string, so both give the same text.
 */
function writeStringBytes(buf: Buffer, from: number, to: number, encoding: 'utf8' | 'latin1'): void {
  const out = json.room(to - from + 2)
  let pos = json.pos
  out[pos++] = QUOTE
  for (let i = from; i < to; i++) {
    const byte = buf[i]!
    if (byte < 0x20 || byte > 0x7e || byte === QUOTE || byte === BACKSLASH) return json.writeString(JSON.stringify(buf.toString(encoding, from, to)))
    out[pos++] = byte
  }
  out[pos++] = QUOTE
  json.pos = pos
}

const BYTES_TEXT: Reader = (buf) => {
  const length = readCount('bytes')
  const from = cursor.pos
  cursor.pos += length
  writeStringBytes(buf, from, from + length, 'latin1')
}

const STRING_TEXT: Reader = (buf) => {
  const length = readCount('a string')
  const from = cursor.pos
  cursor.pos += length
  writeStringBytes(buf, from, from + length, 'utf8')
}

/** A float32 as the shortest decimal that reads back to the same float32 (as Java's Avro tools print it). */
function floatText(value: number): string {
  if (!Number.isFinite(value)) return `"${value}"`
  for (let precision = 1; precision < 9; precision++) {
    const candidate = Number(value.toPrecision(precision))
    if (Math.fround(candidate) === value) return '' + candidate
  }
  return '' + value
}

const ascii = (text: string) => Buffer.from(text, 'latin1')
const NULL_TEXT = ascii('null')
const TRUE_TEXT = ascii('true')
const FALSE_TEXT = ascii('false')
const EMPTY_RECORD_TEXT = ascii('{}')

function jsonReader(type: AvroType, named: Map<AvroType, Reader>): Reader {
  switch (type.typeName) {
    case 'null':
      return () => json.writeBytes(NULL_TEXT)
    case 'boolean':
      return (buf) => {
        if (cursor.pos >= end) throw new Truncated()
        const byte = buf[cursor.pos++]
        if (byte === 0) json.writeBytes(FALSE_TEXT)
        else if (byte === 1) json.writeBytes(TRUE_TEXT)
        else throw new Error(`a boolean byte is ${byte}`)
      }
    case 'int':
    case 'long':
    case 'abstract:long':
      return () => {
        const value = readLong()
        if (typeof value === 'number') json.writeInteger(value)
        else json.writeAscii(value.toString())
      }
    case 'float':
      return (buf) => {
        if (cursor.pos + 4 > end) throw new Truncated()
        const value = buf.readFloatLE(cursor.pos)
        cursor.pos += 4
        json.writeAscii(floatText(value))
      }
    case 'double':
      return (buf) => {
        if (cursor.pos + 8 > end) throw new Truncated()
        const value = buf.readDoubleLE(cursor.pos)
        cursor.pos += 8
        if (Number.isFinite(value)) json.writeNumber(value)
        else json.writeAscii(`"${value}"`)
      }
    case 'string':
      return STRING_TEXT
    case 'bytes':
      return BYTES_TEXT
    case 'fixed': {
      const size = type.size!
      return (buf) => {
        if (cursor.pos + size > end) throw new Truncated()
        const from = cursor.pos
        cursor.pos += size
        writeStringBytes(buf, from, from + size, 'latin1')
      }
    }
    case 'enum': {
      const quoted = type.symbols!.map((symbol) => Buffer.from(JSON.stringify(symbol)))
      return () => {
        const index = readLong()
        const symbol = quoted[index as number]
        if (symbol === undefined) throw new Error(`enum index ${index} is not one of ${quoted.length} symbols`)
        json.writeBytes(symbol)
      }
    }
    case 'array': {
      const item = jsonReader(type.itemsType!, named)
      return (buf) => {
        json.writeByte(0x5b)
        let first = true
        for (let count = readBlockCount(); count > 0; count = readBlockCount())
          for (let i = 0; i < count; i++) {
            if (!first) json.writeByte(0x2c)
            item(buf)
            first = false
          }
        json.writeByte(0x5d)
      }
    }
    case 'map': {
      const item = jsonReader(type.valuesType!, named)
      return (buf) => {
        json.writeByte(0x7b)
        let first = true
        for (let count = readBlockCount(); count > 0; count = readBlockCount())
          for (let i = 0; i < count; i++) {
            if (!first) json.writeByte(0x2c)
            STRING_TEXT(buf)
            json.writeByte(0x3a)
            item(buf)
            first = false
          }
        json.writeByte(0x7d)
      }
    }
    case 'union:wrapped': {
      const branches = type.types!.map((branch) =>
        branch.typeName === 'null' ? undefined : {prefix: Buffer.from('{' + JSON.stringify(branch.branchName!) + ':'), read: jsonReader(branch, named)},
      )
      return (buf) => {
        const index = readLong() as number
        if (!(index >= 0 && index < branches.length)) throw new Error(`union branch ${index} is not one of ${branches.length}`)
        const branch = branches[index]
        if (branch === undefined) return json.writeBytes(NULL_TEXT)
        json.writeBytes(branch.prefix)
        branch.read(buf)
        json.writeByte(0x7d)
      }
    }
    case 'record':
    case 'error': {
      const known = named.get(type)
      if (known) return known
      // Recursive types reach themselves through this indirection before their reader exists.
      let read: Reader | undefined
      named.set(type, (buf) => read!(buf))
      const fields = type.fields!
      const readers = fields.map((field) => jsonReader(field.type, named))
      const keys = fields.map((field, i) => Buffer.from((i === 0 ? '{' : ',') + JSON.stringify(field.name) + ':'))
      const count = fields.length
      read =
        count === 0
          ? () => json.writeBytes(EMPTY_RECORD_TEXT)
          : (buf) => {
              for (let i = 0; i < count; i++) {
                json.writeBytes(keys[i]!)
                readers[i]!(buf)
              }
              json.writeByte(0x7d)
            }
      return read
    }
    default:
      throw new SchemaParseError(`Avro type '${type.typeName}' is not supported`)
  }
}

// ---- canonical JSON value -> Avro binary ----
//
// Straight from the parsed JSON document to the bytes, for produce --value-schema: no avsc value built
// first. A value that does not fit throws MISMATCH (explain() then says where and why); a record that
// leaves out a field with a default throws USE_DEFAULTS, and avsc writes it.

type BinaryWriter = (value: any) => void

const SLAB_BYTES = 256 * 1024

/**
 * Where the writers put payloads: one after another in a slab, each handed out as a view of it (no
 * buffer of its own and no copy per record). A slab is never written again once full: a new one takes
 * over, with the unfinished payload moved into it, and the old one lives on while views of it do.
 * `start` is where the payload being written begins (its frame first).
 */
const out = {buf: Buffer.allocUnsafeSlow(SLAB_BYTES), pos: 0, start: 0}
const USE_DEFAULTS = new Error('a field is left to its default')

function begin(prefix: Uint8Array): void {
  out.start = out.pos
  const buf = room(prefix.length)
  for (let i = 0; i < prefix.length; i++) buf[out.pos++] = prefix[i]!
}

/** The payload written since begin(), frame included. */
function finish(): Buffer {
  const bytes = out.buf.subarray(out.start, out.pos)
  out.start = out.pos
  return bytes
}

function room(bytes: number): Buffer {
  if (out.pos + bytes > out.buf.length) {
    const written = out.pos - out.start
    const slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, (written + bytes) * 2))
    out.buf.copy(slab, 0, out.start, out.pos)
    out.buf = slab
    out.start = 0
    out.pos = written
  }
  return out.buf
}

/** A zigzag varint of a safe integer (Avro int and long). */
function writeVarint(value: number): void {
  const buf = room(10)
  // Beyond 2^52 the doubled value is not exact in a double: those few go through a bigint.
  if (value > 4503599627370496 || value < -4503599627370496) return writeExactLong(out as unknown as Tap, BigInt(value))
  let n = value >= 0 ? value * 2 : -value * 2 - 1
  while (n >= 0x80) {
    buf[out.pos++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  buf[out.pos++] = n
}

function writeLongValue(value: unknown): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw MISMATCH
    writeVarint(value)
  } else if (typeof value === 'bigint') {
    if (!isExactLong(value)) throw MISMATCH
    room(10)
    writeExactLong(out as unknown as Tap, value)
  } else throw MISMATCH
}

function writeText(value: string, encoding: 'utf8' | 'latin1'): void {
  const length = encoding === 'utf8' ? Buffer.byteLength(value) : value.length
  writeVarint(length)
  room(length).write(value, out.pos, length, encoding)
  out.pos += length
}

function binaryWriter(type: AvroType, named: Map<AvroType, BinaryWriter>): BinaryWriter {
  switch (type.typeName) {
    case 'null':
      return (value) => {
        if (value !== null) throw MISMATCH
      }
    case 'boolean':
      return (value) => {
        if (typeof value !== 'boolean') throw MISMATCH
        room(1)[out.pos++] = value ? 1 : 0
      }
    case 'int':
      return (value) => {
        if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) throw MISMATCH
        writeVarint(value)
      }
    case 'long':
    case 'abstract:long':
      return writeLongValue
    case 'float':
    case 'double': {
      const size = type.typeName === 'float' ? 4 : 8
      return (value) => {
        const number = numberFromJson(value)
        if (typeof number !== 'number') throw MISMATCH
        // A finite number beyond a float's range would become Infinity: refused (explain says why).
        if (size === 4 && typeof value === 'number' && Math.abs(number) > FLOAT_MAX) throw MISMATCH
        const buf = room(size)
        if (size === 4) buf.writeFloatLE(number, out.pos)
        else buf.writeDoubleLE(number, out.pos)
        out.pos += size
      }
    }
    case 'string':
      return (value) => {
        if (typeof value !== 'string') throw MISMATCH
        writeText(value, 'utf8')
      }
    case 'bytes':
      return (value) => {
        if (typeof value !== 'string' || !LATIN1.test(value)) throw MISMATCH
        writeText(value, 'latin1')
      }
    case 'fixed': {
      const size = type.size!
      return (value) => {
        if (typeof value !== 'string' || value.length !== size || !LATIN1.test(value)) throw MISMATCH
        room(size).write(value, out.pos, size, 'latin1')
        out.pos += size
      }
    }
    case 'enum': {
      const indexes = new Map(type.symbols!.map((symbol, i) => [symbol, i]))
      return (value) => {
        const index = indexes.get(value)
        if (index === undefined) throw MISMATCH
        writeVarint(index)
      }
    }
    case 'array': {
      const item = binaryWriter(type.itemsType!, named)
      return (values) => {
        if (!Array.isArray(values)) throw MISMATCH
        if (values.length > 0) {
          writeVarint(values.length)
          for (let i = 0; i < values.length; i++) item(values[i])
        }
        writeVarint(0)
      }
    }
    case 'map': {
      const item = binaryWriter(type.valuesType!, named)
      return (values) => {
        if (!isObject(values)) throw MISMATCH
        const keys = Object.keys(values)
        if (keys.length > 0) {
          writeVarint(keys.length)
          for (const key of keys) {
            writeText(key, 'utf8')
            item(values[key])
          }
        }
        writeVarint(0)
      }
    }
    case 'union:wrapped': {
      const nullIndex = type.types!.findIndex((branch) => branch.typeName === 'null')
      const branches = new Map(
        type.types!.flatMap((branch, index) => (branch.typeName === 'null' ? [] : [[branch.branchName!, {index, write: binaryWriter(branch, named)}] as const])),
      )
      return (value) => {
        if (value === null) {
          if (nullIndex < 0) throw MISMATCH
          return writeVarint(nullIndex)
        }
        if (!isObject(value)) throw MISMATCH
        let name: string | undefined
        for (const key in value) {
          if (name !== undefined) throw MISMATCH
          name = key
        }
        const branch = name === undefined ? undefined : branches.get(name)
        if (!branch) throw MISMATCH
        writeVarint(branch.index)
        branch.write(value[name!])
      }
    }
    case 'record':
    case 'error': {
      const known = named.get(type)
      if (known) return known
      let write: BinaryWriter | undefined
      named.set(type, (value) => write!(value))
      const fields = type.fields!
      const names = fields.map((field) => field.name)
      const declared = new Set(names)
      const writers = fields.map((field) => binaryWriter(field.type, named))
      write = (value) => {
        if (!isObject(value)) throw MISMATCH
        let present = 0
        for (const key in value) {
          if (!declared.has(key)) throw MISMATCH
          present++
        }
        if (present !== names.length) throw USE_DEFAULTS
        for (let i = 0; i < names.length; i++) writers[i]!(value[names[i]!])
      }
      return write
    }
    default:
      throw new SchemaParseError(`Avro type '${type.typeName}' is not supported`)
  }
}

// ---- JSON text -> Avro binary ----
//
// produce --value-schema reads JSON lines that mostly spell a record's fields in the schema's order:
// those are read straight from the line's bytes into Avro bytes, without JSON.parse, a string per line
// or the objects in between. The reader takes only a strict subset of JSON it can read exactly as
// JSON.parse would (fields in schema order, numbers it converts exactly, no maps, bytes or fixed); on
// anything else it answers -1 and the line goes through parseJson and the writer above, which also says
// what is wrong with a line that does not fit. So this path never decides whether a line is valid.

/** Reads the value at `pos` of `src` and writes it to `out`: the position after it, or -1 (not read). */
type TextWriter = (pos: number) => number

let src: Buffer = Buffer.alloc(0)
let srcEnd = 0

function skipSpace(pos: number): number {
  while (pos < srcEnd) {
    const byte = src[pos]!
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) break
    pos++
  }
  return pos
}

/** The byte at `pos` of the text, -1 past its end (the input buffer may go on with the next line). */
function byteAt(pos: number): number {
  return pos < srcEnd ? src[pos]! : -1
}

/** `pos` past `literal` (a token spelled in bytes) when the text has it there, else -1. */
function expect(pos: number, literal: Uint8Array): number {
  if (pos + literal.length > srcEnd) return -1
  for (let i = 0; i < literal.length; i++) if (src[pos + i] !== literal[i]) return -1
  return pos + literal.length
}

const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39

// What the last scanNumber found: the digits as an integer while there are at most 15 of them (exact in
// a double), how many digits there were, how many after the point, and whether there was an exponent.
let numberDigits = 0
let numberMantissa = 0
let numberFraction = 0
let numberExponent = false
let numberNegative = false

/** The end of the JSON number at `pos` (by JSON's grammar: no leading zeros, digits after a point), or -1. */
function scanNumber(pos: number): number {
  numberDigits = 0
  numberMantissa = 0
  numberFraction = 0
  numberExponent = false
  numberNegative = byteAt(pos) === 0x2d
  if (numberNegative) pos++
  let byte = byteAt(pos)
  if (byte === 0x30) {
    numberDigits = 1
    byte = byteAt(++pos)
  } else if (isDigit(byte)) {
    do {
      numberMantissa = numberMantissa * 10 + (byte - 0x30)
      numberDigits++
      byte = byteAt(++pos)
    } while (isDigit(byte))
  } else return -1
  if (byte === 0x2e) {
    byte = byteAt(++pos)
    if (!isDigit(byte)) return -1
    do {
      numberMantissa = numberMantissa * 10 + (byte - 0x30)
      numberDigits++
      numberFraction++
      byte = byteAt(++pos)
    } while (isDigit(byte))
  }
  if (byte === 0x65 || byte === 0x45) {
    numberExponent = true
    byte = byteAt(++pos)
    if (byte === 0x2b || byte === 0x2d) byte = byteAt(++pos)
    if (!isDigit(byte)) return -1
    do byte = byteAt(++pos)
    while (isDigit(byte))
  }
  return pos
}

const POWERS_OF_TEN = Array.from({length: 16}, (_, i) => 10 ** i)
/** The largest finite 32-bit float: a float beyond it would be written as Infinity. */
const FLOAT_MAX = 3.4028234663852886e38

/** The JSON number at `pos` as JSON.parse reads it, written as a float or double; -1 where the reader declines. */
function readDouble(pos: number, size: 4 | 8): number {
  const stop = scanNumber(pos)
  if (stop < 0) return -1
  let value: number
  if (!numberExponent && numberDigits <= 15) {
    // Both operands are exact, so the one division rounds correctly: the double nearest the decimal.
    value = numberMantissa / POWERS_OF_TEN[numberFraction]!
    if (numberNegative) value = -value
  } else {
    // An integer of 16 digits or more is a bigint to parseJson, which no double takes: leave it to that path.
    if (!numberExponent && numberFraction === 0) return -1
    value = Number(src.toString('latin1', pos, stop))
  }
  // Past a double's (or a float's) range: the path through parseJson refuses it, where this wrote Infinity.
  if (!Number.isFinite(value) || (size === 4 && Math.abs(value) > FLOAT_MAX)) return -1
  const buf = room(size)
  if (size === 8) buf.writeDoubleLE(value, out.pos)
  else buf.writeFloatLE(value, out.pos)
  out.pos += size
  return stop
}

/** The integer at `pos` (digits only, at most 15 of them) written as a varint, within [min, max]; else -1. */
function readInteger(pos: number, min: number, max: number): number {
  const stop = scanNumber(pos)
  if (stop < 0 || numberExponent || numberFraction > 0 || numberDigits > 15) return -1
  const value = numberNegative ? -numberMantissa : numberMantissa
  if (value < min || value > max) return -1
  writeVarint(value)
  return stop
}

// Where the last scanString's string lies: its bytes between the quotes, and whether they are those of
// the string (no escapes, ASCII only); otherwise the string is JSON.parse of the token.
let stringStart = 0
let stringEnd = 0
let stringPlain = true

/** The end of the JSON string token at `pos` (after its closing quote), or -1. */
function scanString(pos: number): number {
  if (byteAt(pos) !== QUOTE) return -1
  stringStart = ++pos
  stringPlain = true
  for (;;) {
    if (pos >= srcEnd) return -1
    const byte = src[pos]!
    if (byte === QUOTE) break
    if (byte < 0x20) return -1
    if (byte === BACKSLASH) {
      stringPlain = false
      pos += 2
    } else {
      if (byte >= 0x80) stringPlain = false
      pos++
    }
  }
  stringEnd = pos
  return pos + 1
}

/**
 * The string of the token scanString just read. UTF-8 decoding of the token alone gives the same
 * characters as of the whole line (a quote byte is never inside a multi-byte sequence), so this is the
 * string JSON.parse of the line would hold.
 */
function scannedString(): string | undefined {
  if (stringPlain) return src.toString('latin1', stringStart, stringEnd)
  try {
    return JSON.parse(src.toString('utf8', stringStart - 1, stringEnd + 1)) as string
  } catch {
    return undefined
  }
}

const DECLINE: TextWriter = () => -1

function textWriter(type: AvroType, named: Map<AvroType, TextWriter>): TextWriter {
  switch (type.typeName) {
    case 'null':
      return (pos) => expect(pos, NULL_TEXT)
    case 'boolean':
      return (pos) => {
        let next = expect(pos, TRUE_TEXT)
        if (next >= 0) {
          room(1)[out.pos++] = 1
          return next
        }
        next = expect(pos, FALSE_TEXT)
        if (next >= 0) room(1)[out.pos++] = 0
        return next
      }
    case 'int':
      return (pos) => readInteger(pos, -2147483648, 2147483647)
    case 'long':
    case 'abstract:long':
      return (pos) => readInteger(pos, -Infinity, Infinity)
    case 'float':
      return (pos) => readDouble(pos, 4)
    case 'double':
      return (pos) => readDouble(pos, 8)
    case 'string':
      return (pos) => {
        const stop = scanString(pos)
        if (stop < 0) return -1
        if (stringPlain) {
          const length = stringEnd - stringStart
          writeVarint(length)
          const buf = room(length)
          let at = out.pos
          for (let i = stringStart; i < stringEnd; i++) buf[at++] = src[i]!
          out.pos = at
        } else {
          const text = scannedString()
          if (text === undefined) return -1
          writeText(text, 'utf8')
        }
        return stop
      }
    case 'enum': {
      const symbols = type.symbols!.map((symbol) => Buffer.from(symbol, 'latin1'))
      return (pos) => {
        const stop = scanString(pos)
        if (stop < 0 || !stringPlain) return -1
        const length = stringEnd - stringStart
        for (let index = 0; index < symbols.length; index++) {
          const symbol = symbols[index]!
          if (symbol.length === length && expect(stringStart, symbol) >= 0) {
            writeVarint(index)
            return stop
          }
        }
        return -1
      }
    }
    case 'array': {
      const item = textWriter(type.itemsType!, named)
      return (pos) => {
        if (byteAt(pos) !== 0x5b) return -1
        pos = skipSpace(pos + 1)
        if (byteAt(pos) === 0x5d) {
          writeVarint(0)
          return pos + 1
        }
        // Relative to the payload's start: room() may move the payload into a new slab.
        const offset = out.pos - out.start
        let count = 0
        for (;;) {
          pos = item(pos)
          if (pos < 0) return -1
          count++
          pos = skipSpace(pos)
          if (byteAt(pos) === 0x5d) break
          if (byteAt(pos) !== 0x2c) return -1
          pos = skipSpace(pos + 1)
        }
        // Avro writes the count before the items, known only now: move the items up to make room for it.
        const items = out.pos - out.start - offset
        let countBytes = 1
        for (let zigzag = count * 2; zigzag >= 0x80; zigzag = Math.floor(zigzag / 128)) countBytes++
        const buf = room(countBytes)
        const at = out.start + offset
        buf.copyWithin(at + countBytes, at, at + items)
        let zigzag = count * 2
        for (let i = 0; i < countBytes - 1; i++, zigzag = Math.floor(zigzag / 128)) buf[at + i] = (zigzag & 0x7f) | 0x80
        buf[at + countBytes - 1] = zigzag
        out.pos = at + countBytes + items
        writeVarint(0)
        return pos + 1
      }
    }
    case 'union:wrapped': {
      const nullIndex = type.types!.findIndex((branch) => branch.typeName === 'null')
      const branches = type.types!.flatMap((branch, index) =>
        branch.typeName === 'null' ? [] : [{index, name: Buffer.from(JSON.stringify(branch.branchName!)), write: textWriter(branch, named)}],
      )
      return (pos) => {
        if (byteAt(pos) === 0x6e) {
          if (nullIndex < 0) return -1
          const next = expect(pos, NULL_TEXT)
          if (next >= 0) writeVarint(nullIndex)
          return next
        }
        if (byteAt(pos) !== 0x7b) return -1
        pos = skipSpace(pos + 1)
        for (const branch of branches) {
          let next = expect(pos, branch.name)
          if (next < 0) continue
          next = skipSpace(next)
          if (byteAt(next) !== 0x3a) return -1
          writeVarint(branch.index)
          next = branch.write(skipSpace(next + 1))
          if (next < 0) return -1
          next = skipSpace(next)
          return byteAt(next) === 0x7d ? next + 1 : -1
        }
        return -1
      }
    }
    case 'record':
    case 'error': {
      const known = named.get(type)
      if (known) return known
      let write: TextWriter | undefined
      named.set(type, (pos) => write!(pos))
      const fields = type.fields!
      const keys = fields.map((field) => Buffer.from(JSON.stringify(field.name)))
      const writers = fields.map((field) => textWriter(field.type, named))
      const count = fields.length
      write = (pos) => {
        if (byteAt(pos) !== 0x7b) return -1
        pos = skipSpace(pos + 1)
        if (count === 0) return byteAt(pos) === 0x7d ? pos + 1 : -1
        for (let i = 0; i < count; i++) {
          pos = expect(pos, keys[i]!)
          if (pos < 0) return -1
          pos = skipSpace(pos)
          if (byteAt(pos) !== 0x3a) return -1
          pos = writers[i]!(skipSpace(pos + 1))
          if (pos < 0) return -1
          pos = skipSpace(pos)
          if (byteAt(pos) !== (i === count - 1 ? 0x7d : 0x2c)) return -1
          pos = skipSpace(pos + 1)
        }
        return pos
      }
      return write
    }
    default:
      // bytes, fixed and maps (whose duplicate keys JSON.parse resolves) are left to the other path.
      return DECLINE
  }
}

// ---- canonical JSON value -> avsc value ----

/** Converts a canonical JSON value to what avsc writes; undefined where the value passes as it is. */
type Converter = (value: any) => unknown

/** Thrown by converters on a value that does not fit; `explain` finds where and why. */
const MISMATCH = new Error('value does not fit the schema')

const LATIN1 = /^[\x00-\xff]*$/

function bytesFromText(value: unknown): Buffer {
  if (typeof value !== 'string' || !LATIN1.test(value)) throw MISMATCH
  return Buffer.from(value, 'latin1')
}

const NON_FINITE: Record<string, number> = {NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY}

function numberFromJson(value: unknown): unknown {
  return typeof value === 'string' && value in NON_FINITE ? NON_FINITE[value] : value
}

function converter(type: AvroType, named: Map<AvroType, Converter | undefined>): Converter | undefined {
  switch (type.typeName) {
    case 'bytes':
    case 'fixed':
      return bytesFromText
    case 'float':
    case 'double':
      return numberFromJson
    case 'array': {
      const item = converter(type.itemsType!, named)
      if (!item) return undefined
      return (values: unknown) => (Array.isArray(values) ? values.map(item) : values)
    }
    case 'map': {
      const item = converter(type.valuesType!, named)
      if (!item) return undefined
      return (values: unknown) => {
        if (values === null || typeof values !== 'object' || Array.isArray(values)) return values
        const out: Record<string, unknown> = {}
        for (const key in values) out[key] = item((values as Record<string, unknown>)[key])
        return out
      }
    }
    case 'union:wrapped': {
      const branches: Record<string, Converter> = Object.create(null)
      let any = false
      for (const branch of type.types!) {
        const convert = converter(branch, named)
        if (convert) {
          branches[branch.branchName!] = convert
          any = true
        }
      }
      if (!any) return undefined
      return (value: unknown) => {
        if (value === null || typeof value !== 'object') return value
        for (const name in value) {
          const convert = branches[name]
          return convert ? {[name]: convert((value as Record<string, unknown>)[name])} : value
        }
        return value
      }
    }
    case 'record':
    case 'error': {
      if (named.has(type)) return named.get(type) ?? undefined
      let convert: Converter | undefined
      named.set(type, (value) => convert!(value))
      const fields = type.fields!
      const declared = new Set(fields.map((field) => field.name))
      const converters = fields.map((field) => converter(field.type, named))
      const converting = converters.some(Boolean)
      convert = (value: unknown) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
        const record = value as Record<string, unknown>
        for (const key in record) if (!declared.has(key)) throw MISMATCH
        if (!converting) return record
        const out: Record<string, unknown> = {}
        for (let i = 0; i < fields.length; i++) {
          const name = fields[i]!.name
          const field = record[name]
          const convertField = converters[i]
          out[name] = convertField && field !== undefined ? convertField(field) : field
        }
        return out
      }
      return convert
    }
    default:
      return undefined
  }
}

// ---- why a value does not fit ----

function typeLabel(type: AvroType): string {
  if (type.typeName === 'union:wrapped') return type.types!.map(typeLabel).join(' or ')
  if (type.typeName === 'abstract:long') return 'long'
  if (type.name) return `${type.typeName} ${type.name}`
  return type.typeName
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** The first place where `value` does not fit `type`, with what was expected there. */
function explain(type: AvroType, value: unknown, path: string): {path: string; detail: string} | undefined {
  const expected = (what = typeLabel(type)) => ({path, detail: `expected ${what}, got ${describeValue(value)}`})
  switch (type.typeName) {
    case 'null':
      return value === null ? undefined : expected()
    case 'boolean':
      return typeof value === 'boolean' ? undefined : expected()
    case 'int':
      return Number.isInteger(value) && (value as number) >= -2147483648 && (value as number) <= 2147483647 ? undefined : expected('int (32-bit integer)')
    case 'long':
    case 'abstract:long':
      return (typeof value === 'bigint' && value >= MIN_LONG && value <= MAX_LONG) || Number.isSafeInteger(value) ? undefined : expected('long (64-bit integer)')
    case 'float':
    case 'double':
      if (typeof value === 'number' && type.typeName === 'float' && Math.abs(value) > FLOAT_MAX) return expected('float (at most ±3.4028235e38; "Infinity" for infinity)')
      return typeof value === 'number' || (typeof value === 'string' && value in NON_FINITE) ? undefined : expected()
    case 'string':
      return typeof value === 'string' ? undefined : expected()
    case 'bytes':
      return typeof value === 'string' && LATIN1.test(value) ? undefined : expected('bytes (a string of \\u0000-\\u00FF code points)')
    case 'fixed':
      if (typeof value !== 'string' || !LATIN1.test(value)) return expected(`fixed ${type.name} (a string of ${type.size} \\u0000-\\u00FF code points)`)
      return value.length === type.size ? undefined : {path, detail: `expected ${type.size} bytes for fixed ${type.name}, got ${value.length}`}
    case 'enum':
      return typeof value === 'string' && type.symbols!.includes(value) ? undefined : expected(`one of ${type.symbols!.join(', ')}`)
    case 'array': {
      if (!Array.isArray(value)) return expected('array')
      for (let i = 0; i < value.length; i++) {
        const found = explain(type.itemsType!, value[i], `${path}[${i}]`)
        if (found) return found
      }
      return undefined
    }
    case 'map': {
      if (!isObject(value)) return expected('map (a JSON object)')
      for (const key in value) {
        const found = explain(type.valuesType!, value[key], path + propertyStep(key))
        if (found) return found
      }
      return undefined
    }
    case 'union:wrapped': {
      const branches = type.types!
      if (value === null) return branches.some((branch) => branch.typeName === 'null') ? undefined : expected()
      if (isObject(value)) {
        const keys = Object.keys(value)
        const branch = keys.length === 1 ? branches.find((candidate) => candidate.typeName !== 'null' && candidate.branchName === keys[0]) : undefined
        if (branch) return explain(branch, value[keys[0]!], path)
      }
      const fitting = branches.find((branch) => branch.typeName !== 'null' && !explain(branch, value, path))
      const hint = fitting ? ` (a union value is written {${JSON.stringify(fitting.branchName)}: value})` : ''
      return {path, detail: `expected ${typeLabel(type)}, got ${describeValue(value)}${hint}`}
    }
    case 'record':
    case 'error': {
      if (!isObject(value)) return expected(`record ${type.name} (a JSON object)`)
      const fields = type.fields!
      for (const key in value) {
        if (!fields.some((field) => field.name === key)) return {path: path + propertyStep(key), detail: `not a field of record ${type.name}`}
      }
      for (const field of fields) {
        const fieldValue = value[field.name]
        if (fieldValue === undefined) {
          if (field.defaultValue() === undefined) return {path: path + propertyStep(field.name), detail: `missing (a ${typeLabel(field.type)} without default)`}
          continue
        }
        const found = explain(field.type, fieldValue, path + propertyStep(field.name))
        if (found) return found
      }
      return undefined
    }
    default:
      return undefined
  }
}
