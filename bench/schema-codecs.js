#!/usr/bin/env node
// Schema codec throughput: `node bench/schema-codecs.js`. Bundles src/schemas/codecs.ts with esbuild
// (the codec libraries stay external, as in the CLI bundle) and times, per format, decode of a payload
// to a JSON line and encode of a parsed canonical JSON value, on a 5-field record. Prints records/s
// (best of BENCH_RUNS runs of BENCH_RECORDS records each).
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
    contents: "export {compileSchema} from './src/schemas/codecs.ts'; export {parseJson} from './src/schemas/json-text.ts'",
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
const {compileSchema, parseJson} = await import(pathToFileURL(out).href)

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
  let bestDecode = Infinity
  let bestEncode = Infinity
  let sink = 0
  for (let run = 0; run < runs; run++) {
    let start = performance.now()
    for (let i = 0; i < records; i++) sink += codec.decodeToJson(payloads[i % distinct]).length
    bestDecode = Math.min(bestDecode, performance.now() - start)
    start = performance.now()
    for (let i = 0; i < records; i++) sink += codec.encode(values[i % distinct]).length
    bestEncode = Math.min(bestEncode, performance.now() - start)
  }
  console.log(`${type.padEnd(8)} decode→JSON line ${rate(records, bestDecode).padStart(11)} records/s   encode ${rate(records, bestEncode).padStart(11)} records/s   (${payloads[0].length}-byte payload, sink ${sink % 10})`)
}
