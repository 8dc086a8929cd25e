import {Writable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/core/errors.js'
import {encodeBatch, NewlineSeparatedValues, StoredBatch} from '../../src/backends/local/batch-codec.js'
import {ArrayRecordBatch, type ByteColumn, type FeedRecord, PendingBatch, recordSize} from '../../src/core/record.js'
import {BufferedOutput, OutputClosedError} from '../../src/io/output.js'
import {FormatWriter, JsonWriter, type RecordWriter, ValueWriter} from '../../src/io/record-writers.js'

/** A stream that keeps what it is given, slowly when asked to, so back-pressure is exercised. */
class Sink extends Writable {
  readonly chunks: Buffer[] = []
  constructor(private readonly delayMs = 0) {
    super({highWaterMark: 16 * 1024})
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void) {
    // Copy: the output reuses its chunks once the stream has written them.
    this.chunks.push(Buffer.from(chunk))
    if (this.delayMs) setTimeout(done, this.delayMs)
    else done()
  }
  get bytes() {
    return Buffer.concat(this.chunks)
  }
}

const records: FeedRecord[] = [
  {topic: 'orders', partition: 1, offset: 41, timestamp: 1764064800000, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{key: 'a', value: Buffer.from('1')}, {key: 'a', value: Buffer.from('2')}]},
  {topic: 'orders', partition: 1, offset: 42, timestamp: 1764064800001, key: null, value: null, headers: []},
  {topic: 'orders', partition: 1, offset: 43, timestamp: 1764064800002, key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [{key: 'n', value: null}]},
]

async function render(writer: RecordWriter, input = records): Promise<string> {
  const sink = new Sink()
  const out = new BufferedOutput(sink)
  writer.write(new ArrayRecordBatch('orders', 1, input), 0, input.length, out)
  await out.end()
  return sink.bytes.toString('utf8')
}

describe('record writers', () => {
  it('prints the value and a newline by default; null and empty values print as empty lines', async () => {
    expect(await render(new ValueWriter())).toBe('v1\n\n\n')
    expect(await render(new ValueWriter(Buffer.from([0])))).toBe('v1\0\0\0')
    expect(await render(new ValueWriter(Buffer.from('<>')))).toBe('v1<><><>')
  })

  it('renders every --format token', async () => {
    expect(await render(new FormatWriter('%t %p %o %T %k %K %v %s %S %h %%\\n'))).toBe(
      'orders 1 41 1764064800000 k1 2 v1 v1 2 a=1,a=2 %\n' +
        'orders 1 42 1764064800001  -1   -1  %\n' +
        'orders 1 43 1764064800002  0   0 n= %\n',
    )
    expect(await render(new FormatWriter('%p/%o %k=%v\\t|\\x41\\0'))).toBe('1/41 k1=v1\t|A\0' + '1/42 =\t|A\0' + '1/43 =\t|A\0')
  })

  it('refuses an unknown or unfinished token', () => {
    expect(() => new FormatWriter('%q')).toThrow(UsageError)
    expect(() => new FormatWriter('%q')).toThrow("--format has an unknown token '%q'")
    expect(() => new FormatWriter('abc%')).toThrow("--format has an unknown token '%'")
  })

  it('prints one JSON envelope per line', async () => {
    const lines = (await render(new JsonWriter())).split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[3]).toBe('')
    expect(JSON.parse(lines[0]!)).toEqual({
      topic: 'orders',
      partition: 1,
      offset: 41,
      timestamp: 1764064800000,
      key: 'k1',
      value: 'v1',
      headers: [{key: 'a', value: '1'}, {key: 'a', value: '2'}],
    })
    expect(JSON.parse(lines[1]!)).toMatchObject({key: null, value: null})
  })
})

/** A stored batch of these values (null: a null value), as the local store reads it back. */
function pendingOf(values: (Buffer | null)[]): PendingBatch {
  const pending = new PendingBatch(0)
  for (const value of values) pending.add(value, null, null, 1764064800000, recordSize(null, value, null))
  return pending
}

/** These values as produce packs plain lines into the local store: each followed by a newline in the blob. */
function packedOf(values: (Buffer | null)[]): PendingBatch {
  const pending = new PendingBatch(0)
  const storage = () => new NewlineSeparatedValues(64, 4)
  for (const value of values) pending.addPacked(value ?? Buffer.alloc(0), 0, value?.length ?? 0, 1764064800000, storage)
  return pending
}

function storedBatch(values: (Buffer | null)[], layout = pendingOf, first = 0, end?: number): StoredBatch {
  return new StoredBatch('orders', 0, Buffer.from(encodeBatch(layout(values))), 0, first, end)
}

async function renderBatch(writer: RecordWriter, batch: ArrayRecordBatch | StoredBatch, start = 0, end = batch.count): Promise<Buffer> {
  const sink = new Sink()
  const out = new BufferedOutput(sink)
  writer.write(batch, start, end, out)
  await out.end()
  return sink.bytes
}

describe.each([
  ['values back to back (records of the column path): copied as runs, then moved apart', pendingOf],
  ['values each followed by a newline (plain lines, store version 9): copied as runs with their newlines', packedOf],
])('the value writer on a stored batch, %s', (_layout, layout) => {
  // Values of every size around the 64 KiB output chunk, nulls and empties among them, so that runs start,
  // end and break at chunk edges and at values that fit in no chunk.
  let seed = 7
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  const sizes = [0, 1, 2, 3, 99, 100, 101, 4095, 65534, 65535, 65536, 65537, 70_000, 200_000]
  const values: (Buffer | null)[] = []
  for (let i = 0; i < 3000; i++) {
    const pick = random()
    const length = pick < 0.05 ? -1 : pick < 0.08 ? sizes[Math.floor(random() * sizes.length)]! : Math.floor(random() * 300)
    // Produce's plain lines have no null value: an empty line is an empty value.
    values.push(length < 0 ? (layout === packedOf ? Buffer.alloc(0) : null) : Buffer.from(Array.from({length}, (_, j) => (i * 31 + j) & 0xff)))
  }
  const expected = (from: number, to: number, delimiter: Buffer) => Buffer.concat(values.slice(from, to).flatMap((v) => [v ?? Buffer.alloc(0), delimiter]))

  it('prints each value and its delimiter, byte for byte, whole batch and windows', async () => {
    const batch = storedBatch(values, layout)
    expect((await renderBatch(new ValueWriter(), batch)).equals(expected(0, values.length, Buffer.from('\n')))).toBe(true)
    expect((await renderBatch(new ValueWriter(Buffer.from([0])), batch, 17, 2500)).equals(expected(17, 2500, Buffer.from([0])))).toBe(true)
    // A window of a batch, as a read that starts and ends inside it sees the batch.
    const window = storedBatch(values, layout, 40, 2900)
    expect((await renderBatch(new ValueWriter(), window)).equals(expected(40, 2900, Buffer.from('\n')))).toBe(true)
    expect((await renderBatch(new ValueWriter(Buffer.from(',')), window, 3, 2000)).equals(expected(43, 2040, Buffer.from(',')))).toBe(true)
  })

  it('gives each record its own bytes, and JSON envelopes of them', async () => {
    const batch = storedBatch(values.slice(0, 400), layout)
    for (let i = 0; i < 400; i++) expect(batch.valueAt(i)).toEqual(values[i])
    const lines = (await renderBatch(new JsonWriter(), batch)).toString('utf8').trimEnd().split('\n')
    expect(lines.map((line) => JSON.parse(line).offset)).toEqual(values.slice(0, 400).map((_, i) => i))
  })

  it('writes into a chunk already part filled, and through a slow stream', async () => {
    const batch = storedBatch(values.slice(0, 600), layout)
    const sink = new Sink(1)
    const out = new BufferedOutput(sink)
    out.writeString('head\n')
    new ValueWriter().write(batch, 5, 600, out)
    new ValueWriter().write(batch, 0, 5, out)
    await out.end()
    expect(sink.bytes.equals(Buffer.concat([Buffer.from('head\n'), expected(5, 600, Buffer.from('\n')), expected(0, 5, Buffer.from('\n'))]))).toBe(true)
  })
})

describe('the value writer on another backend\'s column', () => {
  it('copies values that do not lie back to back one by one', async () => {
    // Values stored last first: every run is one value long.
    const stored = Buffer.from('ccc' + 'bb' + 'a')
    const column: ByteColumn = {buf: stored, starts: new Int32Array([5, 3, 0, 6]), lengths: new Int32Array([1, 2, 3, -1]), first: 0}
    const records = [0, 1, 2, 3].map((offset): FeedRecord => ({topic: 'orders', partition: 0, offset, timestamp: 0, key: null, value: null, headers: []}))
    const batch = new ArrayRecordBatch('orders', 0, records)
    ;(batch as {valueColumn?: () => ByteColumn}).valueColumn = () => column
    expect((await renderBatch(new ValueWriter(), batch)).toString()).toBe('a\nbb\nccc\n\n')
  })
})

describe('BufferedOutput', () => {
  it('writes shared bytes in order, and says they may be unwritten until a slow stream has written them', async () => {
    const sink = new Sink(5)
    const out = new BufferedOutput(sink)
    expect(out.sharesUnwrittenBytes).toBe(false)
    out.writeString('head\n')
    const shared = Buffer.alloc(100 * 1024, 0x61)
    out.writeShared(shared)
    out.writeString('tail\n')
    expect(out.sharesUnwrittenBytes).toBe(true)
    await out.flush()
    expect(out.sharesUnwrittenBytes).toBe(false)
    await out.end()
    expect(sink.bytes.equals(Buffer.concat([Buffer.from('head\n'), shared, Buffer.from('tail\n')]))).toBe(true)
    // A stream that takes each write at once has written them as soon as it returns.
    const fast = new Sink()
    const direct = new BufferedOutput(fast)
    direct.writeShared(shared)
    expect(direct.sharesUnwrittenBytes).toBe(false)
  })

  it('delivers every byte, in order, to a slow stream, across many chunks and values larger than a chunk', async () => {
    const sink = new Sink(1)
    const out = new BufferedOutput(sink)
    const expected: Buffer[] = []
    for (let i = 0; i < 2000; i++) {
      const value = Buffer.from(`${i}:${'x'.repeat(i % 300)}\n`)
      out.writeBytes(value)
      expected.push(value)
      if (i % 100 === 0) await out.flush()
    }
    const huge = Buffer.alloc(200 * 1024, 'h')
    out.writeBytes(huge)
    expected.push(huge)
    out.writeString('é the end\n')
    expected.push(Buffer.from('é the end\n'))
    await out.end()
    expect(sink.bytes.equals(Buffer.concat(expected))).toBe(true)
  })

  it('hands each full chunk to an idle stream at once, and holds chunks back while the stream is busy', async () => {
    const idle = new Sink()
    const out = new BufferedOutput(idle)
    for (let i = 0; i < 3000; i++) out.writeString(`${i}:${'x'.repeat(90)}\n`)
    // About 290 KB written, no flush yet: the full chunks are in the stream already.
    expect(idle.bytes.length).toBeGreaterThan(3 * 64 * 1024)
    await out.end()

    const busy = new Sink(5)
    const held = new BufferedOutput(busy)
    for (let i = 0; i < 3000; i++) held.writeString(`${i}:${'x'.repeat(90)}\n`)
    // The first chunk is still being written: the rest wait for flush(), which waits for the stream.
    expect(busy.writableLength).toBeGreaterThan(60_000)
    expect(busy.writableLength).toBeLessThanOrEqual(64 * 1024)
    await held.end()
    expect(busy.bytes.toString()).toBe(idle.bytes.toString())
  })

  it('a flush waits for a chunk handed over as it filled: after it the stream holds nothing', async () => {
    const slow = new Sink(5)
    const out = new BufferedOutput(slow)
    out.writeBytes(Buffer.alloc(64 * 1024, 'a'))
    // The full chunk goes to the idle stream at the flush and is still being written when flush() returns
    // unless flush waits for it; a read that fails next would then exit with it unwritten.
    await out.flush()
    expect(slow.writableLength).toBe(0)
    expect(slow.bytes.length).toBe(64 * 1024)
  })

  it('turns a closed pipe (EPIPE) into OutputClosedError, not a crash', async () => {
    const sink = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error('write EPIPE'), {code: 'EPIPE'}))
      },
    })
    const out = new BufferedOutput(sink)
    out.writeString('a'.repeat(70_000))
    await expect(
      (async () => {
        await out.flush()
        await out.flush()
        out.writeString('more')
        await out.settle()
      })(),
    ).rejects.toBeInstanceOf(OutputClosedError)
    expect(out.isClosed).toBe(true)
  })

  it('passes on other write errors', async () => {
    const sink = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error('no space left on device'), {code: 'ENOSPC'}))
      },
    })
    const out = new BufferedOutput(sink)
    out.writeString('data')
    await expect(out.settle()).rejects.toThrow('no space left on device')
  })
})
