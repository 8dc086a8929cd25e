import {execFile, execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {inject} from 'vitest'

// Helpers for the schema-registry tests (Kafka project): Confluent's Python client as the peer
// (test/peers/confluent_peer.py), the fixtures in test/fixtures/schemas, exact JSON, and kcat's raw bytes.

const execFileAsync = promisify(execFile)

/** test/fixtures/schemas/NAME */
export function schemaFixture(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'schemas', name)
}

/**
 * JSON.parse, but integers beyond 2^53 come back as BigInt (from their source text), so that an Avro
 * long 9223372036854775807 is compared exactly.
 */
export function parseExact(text: string): any {
  return JSON.parse(text, (_key, value, context?: {source?: string}) =>
    typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source)
      ? BigInt(context.source)
      : value,
  )
}

/** The non-empty lines of a text (or of a fixture file), each parsed with parseExact. */
export function exactLines(text: string): any[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(parseExact)
}

export function fixtureLines(name: string): any[] {
  return exactLines(readFileSync(schemaFixture(name), 'utf8'))
}

export type PeerFormat = 'avro' | 'json' | 'protobuf'

export type PeerSides = {
  valueFormat: PeerFormat
  /** .avsc, JSON Schema or .proto file; needed to produce, and to consume protobuf. */
  valueSchema?: string
  /** Protobuf: the value's message (default: the file's first). */
  message?: string
  keyFormat?: PeerFormat | 'string'
  keySchema?: string
  keyMessage?: string
}

function sideArgs(sides: PeerSides): string[] {
  const args = ['--value-format', sides.valueFormat]
  if (sides.valueSchema) args.push('--value-schema', sides.valueSchema)
  if (sides.message) args.push('--message', sides.message)
  if (sides.keyFormat) args.push('--key-format', sides.keyFormat)
  if (sides.keySchema) args.push('--key-schema', sides.keySchema)
  if (sides.keyMessage) args.push('--key-message', sides.keyMessage)
  return args
}

async function peer(args: string[], input?: string): Promise<string> {
  const {python, peer: script} = inject('registry')
  const child = execFileAsync(python, [script, ...args], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 90_000})
  if (input !== undefined) {
    child.child.stdin!.end(input)
  }
  try {
    return (await child).stdout
  } catch (error) {
    const e = error as {stderr?: string; message: string}
    throw new Error(`confluent_peer.py ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`)
  }
}

/** Creates a topic with the peer's AdminClient (the test broker does not auto-create topics). */
export async function peerCreateTopic(topic: string, partitions = 1): Promise<void> {
  await peer(['create-topic', '--bootstrap', inject('kafka').plaintext, '--topic', topic, '--partitions', String(partitions)])
}

/**
 * The peer produces JSON lines (canonical JSON values; with `envelope`, {"key", "value"} objects) to a
 * topic through Confluent's serializers, registering the schemas under TOPIC-key and TOPIC-value.
 */
export async function peerProduce(topic: string, sides: PeerSides & {envelope?: boolean}, lines: string): Promise<void> {
  const {url} = inject('registry')
  await peer(['produce', '--bootstrap', inject('kafka').plaintext, '--registry', url, '--topic', topic, ...sideArgs(sides), ...(sides.envelope ? ['--envelope'] : [])], lines)
}

/** The peer reads `count` records from the topic's start: its stdout, one {"key", "value"} JSON line each. */
export async function peerConsume(topic: string, sides: PeerSides & {count: number; timeoutSeconds?: number}): Promise<string> {
  const {url} = inject('registry')
  return peer([
    'consume',
    '--bootstrap',
    inject('kafka').plaintext,
    '--registry',
    url,
    '--topic',
    topic,
    ...sideArgs(sides),
    '--count',
    String(sides.count),
    '--timeout',
    String(sides.timeoutSeconds ?? 30),
  ])
}

/** Every record of a topic as raw bytes (null for a null key or value), read with kcat. */
export function kcatRaw(topic: string): Array<{partition: number; offset: number; key: Buffer | null; value: Buffer | null}> {
  const out = execFileSync('kcat', ['-C', '-b', inject('kafka').plaintext, '-t', topic, '-e', '-q', '-f', '%p %o %K %S\n%k%s'], {timeout: 60_000})
  const records = []
  let at = 0
  while (at < out.length) {
    const end = out.indexOf(0x0a, at)
    const [partition, offset, keyLength, valueLength] = out.subarray(at, end).toString('latin1').split(' ').map(Number)
    at = end + 1
    const take = (length: number) => {
      if (length < 0) return null
      const bytes = out.subarray(at, at + length)
      at += length
      return Buffer.from(bytes)
    }
    const key = take(keyLength)
    records.push({partition, offset, key, value: take(valueLength)})
  }
  return records
}

/** The Confluent framing of a record's key or value: magic byte 0, then the big-endian schema id. */
export function framing(bytes: Buffer): {magic: number; schemaId: number} {
  return {magic: bytes[0], schemaId: bytes.readInt32BE(1)}
}

/** GET on the registry's Confluent API (PATH starts with /). */
export async function registryGet(path: string): Promise<any> {
  const response = await fetch(`${inject('registry').url}${path}`)
  const text = await response.text()
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text}`)
  return parseExact(text)
}
