import {delimiterFlag, durationFlag, rateFlag, sizeFlag} from '../src/cli/flags.js'
import {Args, Flags} from '@oclif/core'
import {COMPRESSIONS} from '../src/backends/kafka/settings.js'
import {SpoolCommand, expandNullFlag} from '../src/cli/base-command.js'
import {interruptible} from '../src/cli/signals.js'
import {openInput} from '../src/cli/stdin.js'
import {UsageError} from '../src/core/errors.js'
import type {Header} from '../src/core/record.js'
import {produce} from '../src/ops/produce.js'
import {defaultBurst} from '../src/ops/token-bucket.js'
import {type RegistryFlags, registryFlags, requireRegistry} from '../src/cli/registry.js'
import type {Backend} from '../src/core/backend.js'
import {parseJson} from '../src/schemas/json-text.js'
import {subjectFor} from '../src/schemas/registry.js'
import type {WriteSchema} from '../src/schemas/schema-file.js'

export default class Produce extends SpoolCommand {
  static override summary = 'Write records from stdin to a topic, one per line.'
  static override description = `Each line of stdin becomes one record; a last line without a newline is a record too, and bytes are stored as they are (binary-safe with -0 or -D). The topic is created on first use (noted on stderr). Records are committed in batches, by count and by a short linger, so a slow writer's lines appear to readers within milliseconds.

With --input json each line is an envelope as printed by \`spool consume --json\`: key, value, headers, timestamp and partition are kept, so consume --json | produce --input json copies a topic exactly. Blank lines are skipped, and a UTF-8 byte order mark before the first line is ignored.

With --value-schema (and --key-schema) each value (key) is a JSON document in the schema format's canonical JSON form, validated, encoded and framed for a schema registry; the schema is registered under TOPIC-value (TOPIC-key) unless it is there already. On the local store the store is the registry; on Kafka name one with --registry, SPOOL_REGISTRY or the context.

With --rate N/s records are paced by a token bucket: the first --burst at once (default: 50 ms worth), then spread evenly, committed in slices of about 5 ms (never more than --burst) as they go, each slice stamped with the time it is written. An idle input saves up one burst at most; a process slowed by a busy machine catches up, so the average rate holds. stdin is read only as fast as the rate, so a large file is backfilled gently and a killed produce has stored a prefix of it; Ctrl-C stops where the pace has got to too (the records read ahead are counted on stderr, not written).

Bad input stops the produce with a one-line error naming the line; the records before it stay stored. Ctrl-C stores what was read and exits 130.`

  static override examples = [
    {description: 'One record per line', command: `echo '{"id":1}' | <%= config.bin %> <%= command.id %> orders`},
    {description: 'key:value lines; keys choose partitions with Kafka\'s murmur2', command: 'cat clicks.txt | <%= config.bin %> <%= command.id %> clicks -K :'},
    {description: 'A fixed key and headers for every record', command: 'tail -f app.log | <%= config.bin %> <%= command.id %> logs -k web-1 -H env=prod -H team=core'},
    {description: 'NUL-delimited binary records', command: 'find . -print0 | <%= config.bin %> <%= command.id %> paths -0'},
    {description: 'JSON documents encoded with an Avro schema (registered as orders-value; Protobuf .proto and JSON Schema .json too)', command: 'cat orders.jsonl | <%= config.bin %> <%= command.id %> orders --value-schema order.avsc'},
    {description: 'Into Kafka, with the schema from a registry', command: "cat orders.jsonl | <%= config.bin %> <%= command.id %> orders -b kafka://localhost:9092 --registry http://localhost:8081 --value-schema @orders-value:3"},
    {description: 'Load generation: 10,000 records per second, spread evenly', command: 'seq 1 1000000 | <%= config.bin %> <%= command.id %> load --rate 10000/s'},
    {description: 'A gentle backfill into Kafka: 30 records a minute, at most 5 at once', command: 'cat backlog.jsonl | <%= config.bin %> <%= command.id %> orders -b kafka://localhost:9092 --rate 30/m --burst 5'},
    {description: 'Copy a topic exactly, keys, headers, timestamps and partitions included', command: '<%= config.bin %> consume orders --json | <%= config.bin %> <%= command.id %> orders-copy --input json'},
  ]

  static override args = {
    topic: Args.string({description: 'Topic to write to (created on first use).', required: true}),
  }

  static override flags = {
    input: Flags.string({summary: 'How stdin is read: lines (raw bytes) or json (envelopes).', options: ['lines', 'json'], default: 'lines'}),
    delimiter: delimiterFlag({char: 'D', summary: 'Record delimiter instead of a newline (escapes: \\n \\t \\0 \\xNN; several bytes allowed).', exclusive: ['null']}),
    null: Flags.boolean({summary: 'Records end with a NUL byte; -0 for short.', exclusive: ['delimiter']}),
    'key-delimiter': delimiterFlag({char: 'K', summary: 'Split each line into key and value at the first occurrence of this.'}),
    key: Flags.string({char: 'k', summary: 'Key for every record that has none of its own.'}),
    header: Flags.string({char: 'H', summary: 'Add a header name=value to every record; repeat for more (order and duplicates kept).', multiple: true}),
    partition: Flags.integer({char: 'p', summary: 'Write every record to this partition instead of choosing by key.', min: 0}),
    partitions: Flags.integer({summary: 'Partitions for the topic when this produce creates it.', default: 1, min: 1}),
    crlf: Flags.boolean({summary: 'Strip a carriage return before each newline (CRLF input). Off: bytes are kept as they are.'}),
    'max-record-size': sizeFlag({summary: 'Refuse records larger than this (key + value + headers).', default: 1024 * 1024, defaultHelp: async () => '1MiB'}),
    linger: durationFlag({summary: 'How long a record may wait for more before its batch is committed (plain lines from a file into the local store never wait: batches fill).', default: 5, defaultHelp: async () => '5ms'}),
    compression: Flags.string({summary: 'Kafka: compress record batches.', options: [...COMPRESSIONS], helpGroup: 'KAFKA'}),
    acks: Flags.string({summary: 'Kafka: acknowledgements to wait for: all (every in-sync replica), 1 (the leader), 0 (none).', options: ['all', '1', '0'], helpGroup: 'KAFKA'}),
    rate: rateFlag({summary: 'Write at most this many records per second (500/s), or per minute (30/m), evenly spread.'}),
    burst: Flags.integer({summary: 'With --rate: how many records may go at once (default: 50 ms worth of the rate).', min: 1, dependsOn: ['rate']}),
    durable: Flags.boolean({summary: 'Sync every commit to disk (survives a power cut, slower).'}),
    'value-schema': Flags.string({
      summary: 'Values are JSON documents to encode with this schema: a file (.avsc, .proto, .json) or @SUBJECT[:VERSION].',
      helpGroup: 'SCHEMAS',
    }),
    'key-schema': Flags.string({summary: 'Keys are JSON documents to encode with this schema (as --value-schema).', helpGroup: 'SCHEMAS'}),
    'value-message': Flags.string({summary: 'Protobuf: the message of --value-schema, when its file defines several.', helpGroup: 'SCHEMAS'}),
    'key-message': Flags.string({summary: 'Protobuf: the message of --key-schema, when its file defines several.', helpGroup: 'SCHEMAS'}),
    register: Flags.boolean({
      summary: 'Register a schema file under TOPIC-value / TOPIC-key when it is not there yet; --no-register only looks it up.',
      default: true,
      allowNo: true,
      helpGroup: 'SCHEMAS',
    }),
    ...registryFlags,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Produce, expandNullFlag(this.argv, {...Produce.baseFlags, ...Produce.flags}))
    const delimiter = flags.null ? Buffer.from([0]) : (flags.delimiter ?? Buffer.from('\n'))
    const headers = (flags.header ?? []).map(parseHeader)
    const maxRecordBytes = flags['max-record-size']
    const lingerMs = flags.linger
    const input = openInput()
    const backend = await this.openBackend(flags, 'write')
    const schemas = await this.writeSchemas(backend, args.topic, flags)
    // A fixed key is a JSON document too when keys have a schema: encoded once.
    const fixedKey = flags.key === undefined ? undefined : schemas?.key ? encodeFixedKey(schemas.key, flags.key) : Buffer.from(flags.key)

    await interruptible(
      (signal) =>
        produce(backend, {
        topic: args.topic,
        input,
        format: flags.input as 'lines' | 'json',
        delimiter,
        keyDelimiter: flags['key-delimiter'],
        key: fixedKey,
        headers,
        partition: flags.partition,
        stripCr: flags.crlf,
        maxRecordBytes,
        createWith: {partitions: flags.partitions},
        lingerMs,
        ...batchLimits(backend),
          signal,
          schemas,
          rate: flags.rate === undefined ? undefined : {perSecond: flags.rate, burst: flags.burst ?? defaultBurst(flags.rate)},
        }),
      (result) =>
        result.interrupted
          ? `interrupted: stored ${result.stored} record${result.stored === 1 ? '' : 's'}` +
            (result.unpacedRecords > 0 ? `; did not write the ${result.unpacedRecords} record${result.unpacedRecords === 1 ? '' : 's'} read after them and not yet paced` : '') +
            (result.discardedBytes > 0 ? `; dropped an unfinished last line of ${result.discardedBytes} bytes` : '')
          : undefined,
    )
  }

  /** Registers (or looks up) the schemas, before any input is read: a bad schema produces nothing. */
  private async writeSchemas(backend: Backend, topic: string, flags: {
    'value-schema'?: string
    'key-schema'?: string
    'value-message'?: string
    'key-message'?: string
    register: boolean
  } & RegistryFlags): Promise<{value?: WriteSchema; key?: WriteSchema} | undefined> {
    if (!flags['value-schema'] && !flags['key-schema']) {
      if (flags['value-message'] || flags['key-message']) throw new UsageError('--value-message and --key-message go with --value-schema and --key-schema')
      return undefined
    }
    const registry = await requireRegistry(backend, flags, 'produce with a schema')
    const {writeSchema} = await import('../src/schemas/schema-file.js')
    const options = (flag: string, message?: string) => ({register: flags.register, messageName: message, flag})
    return {
      value: flags['value-schema'] ? await writeSchema(flags['value-schema'], subjectFor(topic, 'value'), registry, options('--value-schema', flags['value-message'])) : undefined,
      key: flags['key-schema'] ? await writeSchema(flags['key-schema'], subjectFor(topic, 'key'), registry, options('--key-schema', flags['key-message'])) : undefined,
    }
  }
}

/** -k with --key-schema: the key, a JSON document, encoded and framed. */
function encodeFixedKey(schema: WriteSchema, text: string): Buffer {
  try {
    return schema.codec.encode(parseJson(text), schema.frame)
  } catch (error) {
    throw new UsageError(`--key '${text}' does not fit --key-schema: ${(error as Error).message}`)
  }
}

function parseHeader(text: string): Header {
  const at = text.indexOf('=')
  if (at <= 0) throw new UsageError(`header '${text}' is not name=value`, 'write -H name=value, e.g. -H env=prod')
  return {key: text.slice(0, at), value: Buffer.from(text.slice(at + 1))}
}

/**
 * How much one append carries. Kafka's producer sends an append as requests of 512 KiB, five in flight,
 * and waits for all of them to be acknowledged before the next append: with 1 MiB appends the window
 * never filled and every megabyte waited a full round trip, so Kafka appends are 4 MiB (8 requests, one
 * wait per 8). 8 MiB was no faster within the noise and held 152-159 MiB of peak RSS for 1M lines, 4 MiB
 * 126-141 (issue 14's bound is 150; docs/BENCHMARKS.md). The local store commits 1 MiB batches.
 */
function batchLimits(backend: Backend): {batchRecords: number; batchBytes: number} {
  return backend.kind === 'kafka' ? {batchRecords: 65_536, batchBytes: 4 * 1024 * 1024} : {batchRecords: 16_384, batchBytes: 1024 * 1024}
}
