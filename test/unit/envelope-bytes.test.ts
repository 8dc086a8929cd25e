import {Writable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {encodeBatch, NewlineSeparatedValues, StoredBatch} from '../../src/backends/local/batch-codec.js'
import {type Header, PendingBatch, type RecordBatch} from '../../src/core/record.js'
import {encodeEnvelope} from '../../src/io/json-envelope.js'
import {plainRecords} from '../../src/io/envelope-bytes.js'
import {BufferedOutput} from '../../src/io/output.js'
import {JsonWriter, ValueWriter} from '../../src/io/record-writers.js'

/**
 * consume --json and the default output write a local store batch straight from its byte columns
 * (src/io/envelope-bytes.ts, record-writers.ts writeColumn). These compare those bytes with the
 * per-record reference (encodeEnvelope, one value and a newline) on records chosen to take every branch.
 */

class Sink extends Writable {
  readonly chunks: Buffer[] = []
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void) {
    this.chunks.push(Buffer.from(chunk))
    done()
  }
}

interface Input {
  key?: Buffer | null
  value: Buffer | null
  headers?: Header[]
  timestamp?: number
}

/** Values as produce stores plain lines: each followed by a newline in the blob (store version 9). */
function linesBatch(values: Buffer[], baseOffset = 0): StoredBatch {
  const pending = new PendingBatch(2)
  const storage = () => new NewlineSeparatedValues(64, 4)
  for (const value of values) pending.addPacked(value, 0, value.length, 1764064800000, storage)
  return new StoredBatch('orders', 2, Buffer.from(new Uint8Array(encodeBatch(pending)).buffer), baseOffset)
}

function storedBatch(inputs: Input[], baseOffset = 0, first = 0, end?: number, topic = 'orders', partition = 2): StoredBatch {
  const pending = new PendingBatch(partition)
  for (const input of inputs) pending.add(input.value, input.key ?? null, input.headers ?? null, input.timestamp ?? 1764064800000, 0)
  // A blob that is a whole ArrayBuffer of its own, as SQLite's driver hands them out.
  const blob = Buffer.from(new Uint8Array(encodeBatch(pending)).buffer)
  return new StoredBatch(topic, partition, blob, baseOffset, first, end)
}

async function rendered(write: (out: BufferedOutput) => void): Promise<Buffer> {
  const sink = new Sink()
  const out = new BufferedOutput(sink)
  write(out)
  await out.end()
  return Buffer.concat(sink.chunks)
}

/** The envelopes as consume --json has always written them: one string per record. */
function reference(batch: RecordBatch): Buffer {
  let text = ''
  for (let i = 0; i < batch.count; i++) text += `${encodeEnvelope(batch, i)}\n`
  return Buffer.from(text, 'utf8')
}

const b = (...bytes: number[]) => Buffer.from(bytes)
const s = (text: string) => Buffer.from(text, 'utf8')

describe('consume --json from a stored batch', () => {
  it('writes the exact envelope bytes for keys and values that cannot be copied as they are', async () => {
    const batch = storedBatch([
      {key: b(0xff, 0xfe), value: s('plain')},
      {key: null, value: s('quote " backslash \\ tab \t nul \0 unit-separator \x1f del \x7f')},
      {key: s('é'), value: s('snow ☃ and 😀')},
      // A surrogate encoded in UTF-8 (CESU-8) and an overlong NUL are not UTF-8: base64.
      {key: b(0xed, 0xa0, 0x80), value: b(0xc0, 0x80)},
      {key: s(''), value: s('')},
      {key: s('k'), value: null},
    ])
    const out = (await rendered((o) => new JsonWriter().write(batch, 0, batch.count, o))).toString('utf8').split('\n')
    const head = (offset: number) => `{"topic":"orders","partition":2,"offset":${offset},"timestamp":1764064800000,`
    expect(out).toEqual([
      `${head(0)}"key":"//4=","key_encoding":"base64","value":"plain","headers":[]}`,
      `${head(1)}"key":null,"value":"quote \\" backslash \\\\ tab \\t nul \\u0000 unit-separator \\u001f del \x7f","headers":[]}`,
      `${head(2)}"key":"é","value":"snow ☃ and 😀","headers":[]}`,
      `${head(3)}"key":"7aCA","key_encoding":"base64","value":"wIA=","value_encoding":"base64","headers":[]}`,
      `${head(4)}"key":"","value":"","headers":[]}`,
      `${head(5)}"key":"k","value":null,"headers":[]}`,
      '',
    ])
  })

  it('checks each value on its own: a character split between two values is not UTF-8 in either', async () => {
    // '€' is e2 82 ac: the first value ends with two of its bytes, the next starts with the third, so
    // the bytes of the batch's value column are valid UTF-8 as a whole while neither value is.
    const batch = storedBatch([{value: s('price €').subarray(0, 8)}, {value: b(0xac, 0x31)}, {value: s('€')}])
    const lines = (await rendered((o) => new JsonWriter().write(batch, 0, batch.count, o))).toString('utf8').split('\n')
    expect(JSON.parse(lines[0]!)).toMatchObject({value: s('price €').subarray(0, 8).toString('base64'), value_encoding: 'base64'})
    expect(JSON.parse(lines[1]!)).toMatchObject({value: 'rDE=', value_encoding: 'base64'})
    expect(JSON.parse(lines[2]!)).toMatchObject({value: '€'})
    expect(JSON.parse(lines[2]!).value_encoding).toBeUndefined()
  })

  it('writes headers, offsets past a digit, changing timestamps and a window inside the batch as the reference does', async () => {
    const inputs: Input[] = []
    for (let i = 0; i < 120; i++)
      inputs.push({
        key: i % 3 === 0 ? null : s(`user-${i}`),
        value: s(`v${i}`),
        timestamp: 1764064800000 + Math.floor(i / 7),
        headers: i % 10 === 4 ? [{key: 'trace', value: s(`t${i}`)}, {key: 'bin', value: b(0x80)}, {key: 'none', value: null}] : undefined,
      })
    for (const [base, first, end] of [
      [0, 0, 120],
      [95, 3, 117],
      [4294967290, 1, 20],
      [9_007_199_254_740_900, 0, 50],
    ] as const) {
      const batch = storedBatch(inputs, base, first, end)
      expect((await rendered((o) => new JsonWriter().write(batch, 0, batch.count, o))).toString('utf8')).toBe(reference(batch).toString('utf8'))
    }
  })

  it('matches the reference on random bytes around every special byte and at every alignment', async () => {
    // A fixed seed: the same records on every run.
    let seed = 7
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n)
    const alphabet = [0x41, 0x7a, 0x20, 0x7e, 0x7f, 0x00, 0x09, 0x0a, 0x1f, 0x22, 0x5c, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff]
    const inputs: Input[] = []
    for (let i = 0; i < 3000; i++) {
      const length = random(12)
      const special = random(4) === 0
      const bytes = Buffer.alloc(length, 0x61)
      if (special) for (let j = 0; j < 1 + random(3) && length > 0; j++) bytes[random(length)] = alphabet[random(alphabet.length)]!
      inputs.push({key: random(5) === 0 ? Buffer.from(bytes.subarray(0, random(length + 1))) : null, value: random(40) === 0 ? null : bytes})
    }
    const batch = storedBatch(inputs, 1000)
    const fast = await rendered((o) => new JsonWriter().write(batch, 0, batch.count, o))
    expect(fast.equals(reference(batch))).toBe(true)
    // The same values as plain lines, each stored with a newline after it.
    const lines = linesBatch(inputs.map((input) => input.value ?? Buffer.alloc(0)), 1000)
    expect((await rendered((o) => new JsonWriter().write(lines, 0, lines.count, o))).equals(reference(lines))).toBe(true)
    // And without a newline inside any value: every newline of the column is a separator.
    const oneLineEach = linesBatch(inputs.map((input) => Buffer.from((input.value ?? Buffer.alloc(0)).map((byte) => (byte === 0x0a ? 0x41 : byte)))), 1000)
    expect((await rendered((o) => new JsonWriter().write(oneLineEach, 0, oneLineEach.count, o))).equals(reference(oneLineEach))).toBe(true)
  })

  it('copies plain lines stored with their newline as they are: the newline after a value is not part of it', () => {
    const values = ['a', '', 'plain text', 'tab\tinside', 'x'.repeat(37), 'quote "', '', 'end'].map((text) => s(text))
    const column = linesBatch(values).valueColumn()
    expect(column.separator).toBe(0x0a)
    expect([...plainRecords(column, 0, values.length)]).toEqual([1, 1, 1, 0, 1, 0, 1, 1])
    expect([...plainRecords(column, 2, 6)]).toEqual([1, 0, 1, 0])
    // A value with a newline of its own (a line split on another delimiter): the newlines no longer
    // count the records, and each is told apart from the separators.
    const withNewline = ['a', 'two\nlines', 'é', 'plain', '', 'tab\t', 'last'].map((text) => s(text))
    expect([...plainRecords(linesBatch(withNewline).valueColumn(), 0, withNewline.length)]).toEqual([1, 0, 0, 1, 1, 0, 1])
    expect([...plainRecords(linesBatch(withNewline).valueColumn(), 2, 5)]).toEqual([0, 1, 1])
  })
})

describe('default output from a stored batch', () => {
  it('writes each value and the delimiter, null and empty values as empty, across chunks, in a window', async () => {
    const big = Buffer.alloc(200 * 1024, 0x62)
    const inputs: Input[] = [{value: s('first')}, {value: null}, {value: s('')}, {value: big}]
    for (let i = 0; i < 20000; i++) inputs.push({value: s(`line ${i}`)})
    const batch = storedBatch(inputs, 0, 1)
    const expected = Buffer.concat([Buffer.from('\n\n'), big, Buffer.from('\n'), Buffer.from(inputs.slice(4).map((r) => `${r.value}\n`).join(''))])
    expect((await rendered((o) => new ValueWriter().write(batch, 0, batch.count, o))).equals(expected)).toBe(true)
    const nul = await rendered((o) => new ValueWriter(Buffer.from([0])).write(batch, 0, 3, o))
    expect(nul.equals(Buffer.concat([Buffer.from([0, 0]), big, Buffer.from([0])]))).toBe(true)
  })

  it('frees a released batch: its bytes are gone, the records written before it are not', async () => {
    const batch = storedBatch([{value: s('kept')}])
    const out = await rendered((o) => {
      new ValueWriter().write(batch, 0, 1, o)
      batch.release()
    })
    expect(out.toString()).toBe('kept\n')
    expect(batch.valueColumn().buf.length).toBe(0)
  })
})
