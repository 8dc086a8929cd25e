import {SpoolError, UsageError} from '../core/errors.js'
import {type ByteRange, type FeedRecord, type Header, type RecordBatch, recordAt} from '../core/record.js'
import {type DecodedFields, isDecoded} from '../schemas/decoded.js'

/**
 * What an expression sees as `r`: the record with key, value and header values as UTF-8 text (null for
 * null), the raw bytes as keyBytes/valueBytes, and `json`, the value parsed as JSON (undefined when it
 * is not JSON).
 */
export function recordView(record: FeedRecord) {
  let parsed: unknown
  let parsedDone = false
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key?.toString('utf8') ?? null,
    value: record.value?.toString('utf8') ?? null,
    keyBytes: record.key,
    valueBytes: record.value,
    headers: record.headers.map((h) => ({key: h.key, value: h.value?.toString('utf8') ?? null})),
    get json() {
      if (!parsedDone) {
        parsedDone = true
        try {
          parsed = record.value === null ? undefined : JSON.parse(record.value.toString('utf8'))
        } catch {
          parsed = undefined
        }
      }
      return parsed
    },
  }
}

/** Compiles an expression over `r`; one that does not parse is a usage error, before anything is read. */
export function compileExpression(expression: string, flag: string): (r: unknown) => unknown {
  try {
    // The expression is the user's own code from their own command line, evaluated in-process:
    // nothing goes through a shell, and it sees only the record.
    // On lines of its own, so that a trailing // comment does not swallow the closing parenthesis.
    return new Function('r', `"use strict"; return (\n${expression}\n);`) as (r: unknown) => unknown
  } catch (error) {
    // The parenthesis is ours: an expression that stops short meets it first ('r.value ===').
    const message = /^Unexpected token '\)'$/.test((error as Error).message) && !expression.includes(')') ? 'it ends before it is complete' : (error as Error).message
    throw new UsageError(`${flag} '${expression}' is not a valid JavaScript expression: ${message}`, `e.g. ${flag} 'r.json?.amount > 100'`)
  }
}

/** An expression that threw on a record: a runtime failure (exit 1) naming the expression and the record. */
export function expressionFailed(flag: string, expression: string, record: {topic: string; partition: number; offset: number}, error: unknown): SpoolError {
  return new SpoolError(`${flag} '${expression}' failed on ${record.topic}/${record.partition}@${record.offset}: ${(error as Error)?.message ?? String(error)}`)
}

/**
 * --filter EXPR on consume, tail and replay: the expression language of pipe --filter. With --decode the
 * expression sees the decoded value (JSON text, so r.json is the decoded document), as it is printed.
 */
export class RecordFilter {
  private readonly test: (r: unknown) => unknown

  constructor(readonly expression: string) {
    this.test = compileExpression(expression, '--filter')
  }

  matchesRecord(record: FeedRecord): boolean {
    try {
      return Boolean(this.test(recordView(record)))
    } catch (error) {
      throw expressionFailed('--filter', this.expression, record, error)
    }
  }

  matches(batch: RecordBatch, index: number): boolean {
    return this.matchesRecord(recordAt(batch, index))
  }

  /**
   * The records among the first `count` of the batch that pass, at most `limit` of them, as a view of the
   * batch (decoded fields kept, for --json). `consumed` is how many records of the batch were looked at:
   * a group commits past those. A throw ends the batch there, with the records before it kept.
   */
  select(batch: RecordBatch, count: number, limit = Number.POSITIVE_INFINITY): {batch: RecordBatch; consumed: number; error?: SpoolError} {
    const picked: number[] = []
    let consumed = 0
    let error: SpoolError | undefined
    while (consumed < count && picked.length < limit) {
      try {
        if (this.matches(batch, consumed)) picked.push(consumed)
      } catch (thrown) {
        error = thrown as SpoolError
        break
      }
      consumed++
    }
    return {batch: picked.length === batch.count ? batch : pickedBatch(batch, picked), consumed, error}
  }
}

/** Some records of a batch, by index, without copying them. */
class PickedBatch implements RecordBatch {
  constructor(
    protected readonly source: RecordBatch,
    protected readonly picked: number[],
  ) {}
  get topic() {
    return this.source.topic
  }
  get partition() {
    return this.source.partition
  }
  get count() {
    return this.picked.length
  }
  offsetAt(i: number) {
    return this.source.offsetAt(this.picked[i]!)
  }
  timestampAt(i: number) {
    return this.source.timestampAt(this.picked[i]!)
  }
  keyAt(i: number) {
    return this.source.keyAt(this.picked[i]!)
  }
  valueAt(i: number) {
    return this.source.valueAt(this.picked[i]!)
  }
  headersAt(i: number): Header[] {
    return this.source.headersAt(this.picked[i]!)
  }
  copyValue(i: number, target: Buffer, position: number) {
    return this.source.copyValue(this.picked[i]!, target, position)
  }
  valueLength(i: number) {
    return this.source.valueLength(this.picked[i]!)
  }
  valueBytes(i: number, into: ByteRange): boolean {
    if (this.source.valueBytes) return this.source.valueBytes(this.picked[i]!, into)
    const value = this.source.valueAt(this.picked[i]!)
    if (value === null) return false
    into.buf = value
    into.start = 0
    into.end = value.length
    return true
  }
}

/** A PickedBatch of a decoded batch: still decoded, so --json embeds the decoded documents. */
class PickedDecodedBatch extends PickedBatch implements DecodedFields {
  constructor(
    private readonly decoded: RecordBatch & DecodedFields,
    picked: number[],
  ) {
    super(decoded, picked)
  }
  valueSchemaAt(i: number) {
    return this.decoded.valueSchemaAt(this.picked[i]!)
  }
  keySchemaAt(i: number) {
    return this.decoded.keySchemaAt(this.picked[i]!)
  }
  valueJsonAt(i: number) {
    return this.decoded.valueJsonAt(this.picked[i]!)
  }
  keyJsonAt(i: number) {
    return this.decoded.keyJsonAt(this.picked[i]!)
  }
}

function pickedBatch(batch: RecordBatch, picked: number[]): RecordBatch {
  return isDecoded(batch) ? new PickedDecodedBatch(batch, picked) : new PickedBatch(batch, picked)
}
