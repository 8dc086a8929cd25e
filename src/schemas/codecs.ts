import {SpoolError} from '../core/errors.js'
import {SchemaParseError, type ReferenceResolver, type SchemaCodec, type SchemaText} from './types.js'

export interface CompileOptions {
  /** The Protobuf message that encode writes (fully qualified or simple name); ignored by the other formats. */
  messageName?: string
}

/**
 * Compiles a registry schema into a codec. Each format's module and library (avsc, protobufjs, ajv) loads
 * here, on first use, so that commands without schemas never pay for them.
 */
export async function compileSchema(schema: SchemaText, resolve: ReferenceResolver, options: CompileOptions = {}): Promise<SchemaCodec> {
  switch (schema.type) {
    case 'AVRO':
      return (await import('./avro.js')).compileAvro(schema, resolve)
    case 'PROTOBUF':
      return (await import('./protobuf.js')).compileProtobuf(schema, resolve, options.messageName)
    case 'JSON':
      return (await import('./json-schema.js')).compileJsonSchema(schema, resolve)
    default:
      throw new SchemaParseError(`unknown schema type '${String((schema as {type: unknown}).type)}' (expected AVRO, PROTOBUF or JSON)`)
  }
}

/**
 * Every schema a schema refers to, depth first (references before what refers to them), each once.
 * `key` identifies a reference (subject and version) so a diamond of references is compiled once.
 */
export async function collectReferences(schema: SchemaText, resolve: ReferenceResolver): Promise<Array<{name: string; schema: SchemaText}>> {
  const out: Array<{name: string; schema: SchemaText}> = []
  const seen = new Set<string>()
  const visit = async (text: SchemaText, depth: number): Promise<void> => {
    if (depth > 64) throw new SchemaParseError('schema references nest more than 64 levels deep (a cycle?)')
    for (const reference of text.references ?? []) {
      const key = `${reference.subject}\u0000${reference.version}\u0000${reference.name}`
      if (seen.has(key)) continue
      seen.add(key)
      let referenced: SchemaText
      try {
        referenced = await resolve(reference)
      } catch (error) {
        if (error instanceof SpoolError) throw error
        throw new SchemaParseError(`reference '${reference.name}' (subject ${reference.subject} version ${reference.version}): ${(error as Error).message ?? error}`)
      }
      await visit(referenced, depth + 1)
      out.push({name: reference.name, schema: referenced})
    }
  }
  await visit(schema, 0)
  return out
}

/** 1-based line and column of a 0-based offset into `text`. */
export function lineColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  let start = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++
    start = i + 1
  }
  return {line, column: offset - start + 1}
}

/** JSON.parse for schema texts: a syntax error becomes a SchemaParseError with its line and column. */
export function parseSchemaJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    const message = (error as Error).message
    const position = /at position (\d+)/.exec(message)
    const detail = `${what} is not valid JSON: ${message.replace(/\s*(in JSON )?at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)/, '')}`
    if (position) {
      const {line, column} = lineColumn(text, Number(position[1]))
      throw new SchemaParseError(detail, line, column)
    }
    if (/Unexpected end of JSON input/.test(message)) {
      const {line, column} = lineColumn(text, text.length)
      throw new SchemaParseError(detail, line, column)
    }
    throw new SchemaParseError(detail)
  }
}

/** A short JSON rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  let text: string
  try {
    text = JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? Number(inner) : inner)) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** A path step for a property name: ".name", or ["odd key"] when it is not an identifier. */
export function propertyStep(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`
}
