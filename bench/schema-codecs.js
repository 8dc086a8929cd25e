#!/usr/bin/env node
// Schema codec throughput: `node bench/schema-codecs.js`. Bundles src/schemas/codecs.ts with esbuild
// (the codec libraries stay external, as in the CLI bundle) and times, per format, on a 5-field record:
// decode of a payload to a JSON line (a string), decode into one buffer as --decode does (decodeInto,
// where the codec has it), encode of a parsed canonical JSON value, and a JSON line's bytes to the
// payload as produce does (encodeText where the codec takes the line, else parseJson then encode).
// Prints records/s (best of BENCH_RUNS runs of BENCH_RECORDS records each).
import {build} from 'esbuild'
import {mkdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'bench-schema-codecs.mjs')
mkdirSync(dirname(out), {recursive: true})
await build({
  absWorkingDir: root,
  stdin: {
    contents:
      "export {compileSchema} from './src/schemas/codecs.ts'; export {parseJson} from './src/schemas/json-text.ts'; export {JsonBytes} from './src/schemas/json-bytes.ts'",
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  outfile: out,
  external: ['avsc', 'protobufjs', 'ajv', 'ajv-formats'],
  logLevel: 'warning',
})
const {compileSchema, parseJson, JsonBytes} = await import(pathToFileURL(out).href)

const records = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const runs = Number(process.env.BENCH_RUNS ?? 5)
const noReferences = async () => {
  throw new Error('no references')
}

const schemas = {
  AVRO: JSON.stringify({
    type: 'record',
    name: 'Order',
    namespace: 'bench',
    fields: [
      {name: 'id', type: 'long'},
      {name: 'customer', type: 'string'},
      {name: 'qty', type: 'int'},
      {name: 'price', type: ['null', 'double']},
      {name: 'paid', type: 'boolean'},
    ],
  }),
  PROTOBUF: 'syntax = "proto3";\npackage bench;\nmessage Order { int64 id = 1; string customer = 2; int32 qty = 3; double price = 4; bool paid = 5; }\n',
  JSON: JSON.stringify({
    type: 'object',
    properties: {id: {type: 'integer'}, customer: {type: 'string'}, qty: {type: 'integer'}, price: {type: ['number', 'null']}, paid: {type: 'boolean'}},
    required: ['id', 'customer', 'qty', 'price', 'paid'],
    additionalProperties: false,
  }),
}
const lines = {
  AVRO: (i) => `{"id":${1_700_000_000_000 + i},"customer":"customer-${i % 1000}","qty":${i % 50},"price":{"double":${(i % 1000) / 4}},"paid":${i % 2 === 0}}`,
  PROTOBUF: (i) => `{"id":"${1_700_000_000_000 + i}","customer":"customer-${i % 1000}","qty":${(i % 50) + 1},"price":${(i % 1000) / 4 + 0.5},"paid":true}`,
  JSON: (i) => `{"id":${1_700_000_000_000 + i},"customer":"customer-${i % 1000}","qty":${i % 50},"price":${(i % 1000) / 4},"paid":${i % 2 === 0}}`,
}

const rate = (n, ms) => Math.round((n * 1000) / ms).toLocaleString('en-US')
const only = process.argv[2]
for (const type of Object.keys(schemas)) {
  if (only && only !== type) continue
  const codec = await compileSchema({type, schema: schemas[type], references: []}, noReferences)
  const distinct = 1000
  const values = Array.from({length: distinct}, (_, i) => parseJson(lines[type](i)))
  const payloads = values.map((value) => codec.encode(value))
  // Check the round trip before timing it.
  for (let i = 0; i < distinct; i++) {
    if (codec.decodeToJson(payloads[i]) !== lines[type](i)) throw new Error(`${type}: ${codec.decodeToJson(payloads[i])} != ${lines[type](i)}`)
  }
  const texts = Array.from({length: distinct}, (_, i) => Buffer.from(lines[type](i)))
  const fromText = (text) => codec.encodeText?.(text, 0, text.length) ?? codec.encode(parseJson(text.toString()))
  for (let i = 0; i < distinct; i++) {
    if (!fromText(texts[i]).equals(payloads[i])) throw new Error(`${type}: line ${i} encodes differently from its text`)
  }
  const into = new JsonBytes(1 << 20)
  const best = {decode: Infinity, decodeInto: Infinity, encode: Infinity, encodeText: Infinity}
  const time = (what, loop) => {
    const start = performance.now()
    loop()
    best[what] = Math.min(best[what], performance.now() - start)
  }
  let sink = 0
  for (let run = 0; run < runs; run++) {
    time('decode', () => {
      for (let i = 0; i < records; i++) sink += codec.decodeToJson(payloads[i % distinct]).length
    })
    if (codec.decodeInto)
      time('decodeInto', () => {
        for (let i = 0; i < records; i++) {
          if (into.pos > 1 << 19) into.pos = 0
          codec.decodeInto(payloads[i % distinct], 0, payloads[i % distinct].length, into)
        }
      })
    time('encode', () => {
      for (let i = 0; i < records; i++) sink += codec.encode(values[i % distinct]).length
    })
    time('encodeText', () => {
      for (let i = 0; i < records; i++) sink += fromText(texts[i % distinct]).length
    })
  }
  const column = (what) => (best[what] === Infinity ? '-' : rate(records, best[what])).padStart(11)
  console.log(
    `${type.padEnd(8)} decode→JSON line ${column('decode')}  decode into a buffer ${column('decodeInto')}  encode ${column('encode')}  JSON line→payload ${column('encodeText')} records/s  (${payloads[0].length}-byte payload, sink ${sink % 10})`,
  )
}
