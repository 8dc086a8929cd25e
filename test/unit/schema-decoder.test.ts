import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {LocalBackend} from '../../src/backends/local/local-store.js'
import {PendingBatch, type RecordBatch} from '../../src/core/record.js'
import {BufferedOutput} from '../../src/io/output.js'
import {JsonWriter, ValueWriter} from '../../src/io/record-writers.js'
import {compileSchema} from '../../src/schemas/codecs.js'
import {RecordDecoder} from '../../src/schemas/decoder.js'
import {frameOf} from '../../src/schemas/framing.js'
import {parseJson} from '../../src/schemas/json-text.js'

const reading = {
  type: 'record',
  name: 'Reading',
  fields: [
    {name: 'sensor', type: 'string'},
    {name: 'seq', type: 'long'},
  ],
}

/** --decode over a real store: each batch's decoded values are written into one buffer, newline after each. */
describe('RecordDecoder', () => {
  let dir: string
  let backend: LocalBackend
  let id: number
  let framed: (line: string) => Buffer
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spool-decoder-'))
    backend = new LocalBackend({path: join(dir, 'spool.db')})
    const schema = {type: 'AVRO' as const, schema: JSON.stringify(reading), references: []}
    id = await backend.schemaRegistry().register('t-value', schema)
    const codec = await compileSchema(schema, async () => {
      throw new Error('no references')
    })
    framed = (line) => codec.encode(parseJson(line), frameOf(id))
  })
  afterEach(async () => {
    await backend.close()
    rmSync(dir, {recursive: true, force: true})
  })

  async function storedBatch(records: Array<[Buffer | null, Buffer | null]>): Promise<RecordBatch> {
    const pending = new PendingBatch(0)
    for (const [key, value] of records) pending.add(value, key, null, 1000, (value?.length ?? 0) + (key?.length ?? 0))
    await backend.append('t', [pending], {createWith: {partitions: 1}})
    for await (const batch of backend.read([{topic: 't', partition: 0, from: 0, until: records.length}], {signal: new AbortController().signal})) return batch
    throw new Error('nothing read')
  }

  async function written(batch: RecordBatch, writer = new ValueWriter()): Promise<string> {
    const sink = new PassThrough()
    const chunks: Buffer[] = []
    sink.on('data', (chunk: Buffer) => chunks.push(chunk))
    const out = new BufferedOutput(sink)
    writer.write(batch, 0, batch.count, out)
    await out.end()
    return Buffer.concat(chunks).toString()
  }

  it('decodes framed values and keys; unframed and null ones stay as they are, in order', async () => {
    const lines = ['{"sensor":"a \\"q\\" \\\\ é 日本 \\u0001","seq":9223372036854775807}', '{"sensor":"b","seq":-9007199254740993}']
    const batch = await storedBatch([
      [null, framed(lines[0]!)],
      [null, Buffer.from('not framed')],
      [framed('{"sensor":"k","seq":1}'), framed(lines[1]!)],
      [Buffer.from('raw key'), null],
    ])
    const {batch: decoded, error} = await new RecordDecoder(backend.schemaRegistry()).decode(batch, batch.count)
    expect(error).toBeUndefined()
    expect(decoded.count).toBe(4)
    expect(await written(decoded)).toBe(`${lines[0]}\nnot framed\n${lines[1]}\n\n`)
    expect(decoded.valueJsonAt(0)).toBe(lines[0])
    expect(decoded.valueJsonAt(1)).toBeUndefined()
    expect(decoded.valueAt(1)?.toString()).toBe('not framed')
    expect(decoded.valueAt(3)).toBeNull()
    expect(decoded.valueLength(3)).toBe(-1)
    expect(decoded.valueSchemaAt(2)).toEqual({id, type: 'AVRO'})
    expect(decoded.valueSchemaAt(1)).toBeUndefined()
    expect(decoded.keyJsonAt(2)).toBe('{"sensor":"k","seq":1}')
    expect(decoded.keyAt(3)?.toString()).toBe('raw key')
    expect(decoded.keyAt(0)).toBeNull()
    // The JSON envelopes read the same decoded texts.
    const envelopes = (await written(decoded, new JsonWriter())).trim().split('\n').map((line) => JSON.parse(line))
    expect(envelopes[2].key).toEqual({sensor: 'k', seq: 1})
    expect(envelopes[3].key).toBe('raw key')
  })

  it('a batch of decoded values only is written as the one buffer; a run of them reads back line for line', async () => {
    const lines = Array.from({length: 500}, (_, i) => `{"sensor":"s-${i}","seq":${i * 1_000_000_007}}`)
    const batch = await storedBatch(lines.map((line) => [null, framed(line)]))
    const {batch: decoded} = await new RecordDecoder(backend.schemaRegistry()).decode(batch, batch.count)
    expect(decoded.valueLines!(0, decoded.count)!.toString()).toBe(lines.map((line) => line + '\n').join(''))
    expect(decoded.valueLines!(10, 12)!.toString()).toBe(`${lines[10]}\n${lines[11]}\n`)
    expect(await written(decoded)).toBe(lines.map((line) => line + '\n').join(''))
  })

  it('a value that cannot be decoded ends the batch: the records before it are there, with the error', async () => {
    const good = '{"sensor":"a","seq":1}'
    const cut = framed(good).subarray(0, 7)
    const batch = await storedBatch([
      [null, framed(good)],
      [null, framed(good)],
      [null, cut],
      [null, framed(good)],
    ])
    const {batch: decoded, error} = await new RecordDecoder(backend.schemaRegistry()).decode(batch, batch.count)
    expect(decoded.count).toBe(2)
    expect(error?.message).toMatch(/^cannot decode t partition 0 offset 2 \(schema id \d+\): payload does not match the Avro schema/)
    expect(await written(decoded)).toBe(`${good}\n${good}\n`)
  })
})
