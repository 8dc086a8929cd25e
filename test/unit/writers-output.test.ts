import {Writable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/core/errors.js'
import {ArrayRecordBatch, type FeedRecord} from '../../src/core/record.js'
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

describe('BufferedOutput', () => {
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
