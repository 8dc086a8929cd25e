/**
 * JSON text with exact integers. Schema formats carry 64-bit integers (Avro long, Protobuf int64 when
 * written as a number) that JSON.parse would round; these keep them as bigint on the way in and print
 * them digit for digit on the way out (JSON.rawJSON and the reviver's source text, both Node 22+).
 */

// Only a run of 16 or more digits can be an integer beyond 2^53, or a number beyond a double's range
// without a three-digit exponent: lines without either take the fast path.
const LONG_DIGITS = /\d{16}|[eE]\+?\d{3}/

type ReviverContext = {source?: string}

function exactIntegers(this: unknown, _key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source)
  }
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes as null: refused, not changed.
  if (typeof value === 'number' && !Number.isFinite(value)) throw new SyntaxError(`the number ${context?.source ?? value} is beyond the range of a double`)
  return value
}

/** JSON.parse, except that integers beyond 2^53 become bigints instead of rounded numbers. */
export function parseJson(text: string): unknown {
  return LONG_DIGITS.test(text) ? JSON.parse(text, exactIntegers as (key: string, value: unknown) => unknown) : JSON.parse(text)
}

const rawJson = (JSON as unknown as {rawJSON(text: string): unknown}).rawJSON

function bigintsAsNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? rawJson(value.toString()) : value
}

/** JSON.stringify, except that bigints print as JSON numbers, exactly. */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, bigintsAsNumbers)
}

/** A JSON number holding exactly this integer, for values built by hand (JSON.stringify keeps it raw). */
export function exactNumber(value: bigint | number): unknown {
  return rawJson(value.toString())
}

/**
 * The value with every bigint in it replaced by `as(bigint)`; parts without one are the same objects
 * (copies are made only along the way to a bigint). For libraries that take no bigints: ajv validates
 * the nearest number, protobufjs's proto3 JSON takes 64-bit integers as decimal strings.
 */
export function replaceBigints(value: unknown, as: (value: bigint) => unknown): unknown {
  if (typeof value === 'bigint') return as(value)
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item = replaceBigints(value[i], as)
      if (item !== value[i]) (copy ??= value.slice())[i] = item
    }
    return copy ?? value
  }
  let copy: Record<string, unknown> | undefined
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key]
    const replaced = replaceBigints(item, as)
    if (replaced !== item) (copy ??= {...(value as Record<string, unknown>)})[key] = replaced
  }
  return copy ?? value
}
