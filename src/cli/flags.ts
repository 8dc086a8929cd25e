import {Flags} from '@oclif/core'
import {UsageError} from '../core/errors.js'
import {KeySelection} from '../core/key-selection.js'
import {POSITION_HELP, type Position, parsePosition} from '../core/positions.js'
import {NO_LIMIT, parseDuration, parseRate, parseSize} from '../core/units.js'
import {parseDelimiter} from '../io/escapes.js'
import {RecordFilter} from '../ops/record-filter.js'
import {FORMAT_HELP, FormatWriter, JsonWriter, type RecordWriter, ValueWriter} from '../io/record-writers.js'

/** Flags of every command that prints records: consume, tail (and replay). */
export const outputFlags = {
  format: Flags.string({
    summary: `Print each record through a format string: ${FORMAT_HELP}.`,
    exclusive: ['json'],
    helpGroup: 'OUTPUT',
  }),
  json: Flags.boolean({
    summary: 'Print one JSON envelope per line: topic, partition, offset, timestamp, key, value, headers (base64 where bytes are not UTF-8).',
    helpGroup: 'OUTPUT',
  }),
  delimiter: Flags.string({
    char: 'D',
    summary: 'Write this after each value instead of a newline (escapes: \\n \\t \\0 \\xNN).',
    exclusive: ['json', 'format', 'null'],
    helpGroup: 'OUTPUT',
  }),
  null: Flags.boolean({
    summary: 'End each value with a NUL byte instead of a newline; -0 for short.',
    exclusive: ['json', 'format', 'delimiter'],
    helpGroup: 'OUTPUT',
  }),
}

export function recordWriterFor(flags: {format?: string; json?: boolean; delimiter?: string; null?: boolean}): RecordWriter {
  if (flags.json) return new JsonWriter()
  if (flags.format !== undefined) return new FormatWriter(flags.format)
  if (flags.null) return new ValueWriter(Buffer.from([0]))
  if (flags.delimiter !== undefined) return new ValueWriter(parseDelimiter(flags.delimiter, '--delimiter'))
  return new ValueWriter()
}

// Typed flags: durations, sizes, positions, delimiters and partition lists are parsed when oclif parses
// the command line, before run() opens anything, so a bad value is a usage error (exit 2) that leaves no
// trace (no store created). A parse error keeps spool's message; base-command strips oclif's wrapping.

/** A duration (500ms, 10s, 7d, 1h30m) as milliseconds. */
export const durationFlag = Flags.custom<number>({parse: async (input, _context, flag) => parseDuration(input, `--${flag.name}`)})

/** A rate (500/s, 500, 30/m, 3600/h) as records per second. */
export const rateFlag = Flags.custom<number>({parse: async (input, _context, flag) => parseRate(input, `--${flag.name}`)})

/** A size (1048576, 512KiB, 1GB) as bytes. */
export const sizeFlag = Flags.custom<number>({parse: async (input, _context, flag) => parseSize(input, `--${flag.name}`)})

/** `forever`, or Kafka's -1: no limit. */
const FOREVER = /^\s*(forever|-1)\s*$/i

/** topic alter's --retention: a duration, or forever (NO_LIMIT) to keep records for good again. */
export const retentionFlag = Flags.custom<number>({parse: async (input, _context, flag) => (FOREVER.test(input) ? NO_LIMIT : parseDuration(input, `--${flag.name}`))})

/** --retention-bytes: a size per partition above 0, or forever (NO_LIMIT) for no limit. */
export const retentionBytesFlag = Flags.custom<number>({
  parse: async (input, _context, flag) => {
    if (FOREVER.test(input)) return NO_LIMIT
    const bytes = parseSize(input, `--${flag.name}`)
    // Kafka keeps the segment being written; the local store has none, and would delete every record as it is written.
    if (bytes === 0) throw new UsageError(`--${flag.name} 0 would delete every record as soon as it is written`, 'give a size such as 1GiB, or forever for no limit')
    return bytes
  },
})

/** A position of the one grammar (earliest, latest, N, +N, -N, @TIME, @-DURATION). */
export const positionFlag = Flags.custom<Position>({parse: async (input, _context, flag) => parsePosition(input, `--${flag.name}`)})

/** Delimiter bytes with escapes (\n \t \0 \xNN). */
export const delimiterFlag = Flags.custom<Buffer>({parse: async (input, _context, flag) => parseDelimiter(input, `--${flag.name}`)})

export const partitionsFlag = Flags.custom<number[]>({
  char: 'p',
  summary: 'Only these partitions: a number, a comma list or a range (0,2,5-7).',
  multiple: true,
  parse: async (input) => parsePartitionList(input),
})()

/** The partitions of every -p given (each a list), once each, ascending; undefined for all. */
export function partitionsOf(values: ReadonlyArray<number | number[]> | undefined): number[] | undefined {
  if (!values || values.length === 0) return undefined
  return [...new Set(values.flat())].sort((a, b) => a - b)
}

export function parsePartitionList(value: string): number[] {
  const out = new Set<number>()
  for (const item of value.split(',')) {
    const text = item.trim()
    const range = /^(\d+)-(\d+)$/.exec(text)
    if (range) {
      if (Number(range[2]) >= 100_000) throw new UsageError(`--partition '${item}' is past any topic's partitions`, 'topics have at most 10,000 partitions')
      if (Number(range[1]) > Number(range[2])) throw new UsageError(`--partition '${item}' is an empty range`, 'write the lower number first: 1-2')
      for (let p = Number(range[1]); p <= Number(range[2]); p++) out.add(p)
    } else if (/^\d+$/.test(text)) out.add(Number(text))
    else throw new UsageError(`--partition '${item}' is not a partition number`, 'use a number, a comma list or a range: 0,2,5-7')
  }
  return [...out].sort((a, b) => a - b)
}

export const positionHelp = `Positions: ${POSITION_HELP}.`

export const groupFlag = Flags.string({
  char: 'g',
  summary: "Read as this consumer group: start from its committed offsets (else from --from) and commit each batch once it is written out.",
})

/**
 * --filter EXPR on consume, tail and replay: pipe's expression language, compiled when the command line
 * is parsed, so an expression that does not parse is a usage error before anything is opened or read.
 */
export const filterFlag = Flags.custom<RecordFilter>({
  summary: 'Print only records for which this JavaScript expression over r is truthy (r.value, r.key, r.json, r.headers, r.timestamp, r.partition, r.offset, r.topic).',
  parse: async (input) => new RecordFilter(input),
})()

export const filterHelp = `--filter EXPR keeps the records for which the JavaScript expression is truthy, as pipe --filter does: r is the record, with r.key and r.value (UTF-8 text or null), r.json (the value parsed as JSON, undefined when it is not), r.headers ([{key, value}]), r.timestamp, r.partition, r.offset, r.topic, and r.keyBytes/r.valueBytes (Buffers). With --decode it sees the decoded value, as printed. An expression that does not parse exits 2 before reading; one that throws on a record exits 1 naming the record, after the records before it are printed.`

export const keyFlag = Flags.string({
  summary: 'Only records with this key (repeatable: any of them). The text is the key\'s bytes as UTF-8, as produce -k takes it.',
  multiple: true,
})

/** The keys of every --key given; undefined for none (all records). */
export function keysOf(values: readonly string[] | undefined): KeySelection | undefined {
  if (!values || values.length === 0) return undefined
  return new KeySelection(values.map((text) => Buffer.from(text, 'utf8')))
}

/**
 * --yes on the deletes that do not ask (group and cursor delete: positions only, records stay), so that a
 * script can pass it to every delete as topic delete requires it.
 */
export const yesAccepted = Flags.boolean({char: 'y', summary: 'Accepted for scripts that pass --yes to every delete; this one does not ask (records stay).'})

/** --shift-by N of the resets: a whole number, signed or not (+100 as the position grammar takes it). */
export const shiftByFlag = Flags.custom<number>({
  parse: async (input, _context, flag) => {
    if (!/^[+-]?\d+$/.test(input.trim()) || !Number.isSafeInteger(Number(input)))
      throw new UsageError(`--${flag.name} '${input}' is not a whole number`, 'e.g. --shift-by -100 to re-read the last 100 records, --shift-by +10 to skip 10')
    return Number(input)
  },
})

/** The resets take one of --to and --shift-by; oclif's own check printed --to's parsed value ([object Object]). */
export function oneResetTarget(flags: {to?: unknown; 'shift-by'?: number}): void {
  if (flags.to !== undefined && flags['shift-by'] !== undefined) throw new UsageError('give --to or --shift-by, not both', 'a reset either moves to a position or moves by a number of records')
}
