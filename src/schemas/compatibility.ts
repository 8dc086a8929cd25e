import type {Compatibility} from './registry.js'
import type {ReferenceResolver, SchemaText} from './types.js'

/**
 * The local store's compatibility check, BACKWARD as Confluent's registry defaults to: can a reader with
 * the new schema read what the latest version wrote? Avro by Avro's own schema resolution (avsc builds a
 * resolver or says why it cannot); Protobuf by field numbers keeping their wire types; JSON Schema by a
 * conservative reading of the two documents (a new required property, a narrowed type or a property no
 * longer allowed are breaks).
 */
export async function backwardCompatibility(next: SchemaText, latest: SchemaText, resolve: ReferenceResolver): Promise<Compatibility> {
  if (next.type !== latest.type) return incompatible(`the latest version is ${latest.type}, this schema is ${next.type}`)
  if (next.type === 'AVRO') return avro(next, latest, resolve)
  if (next.type === 'PROTOBUF') return protobuf(next, latest)
  return jsonSchema(JSON.parse(next.schema), JSON.parse(latest.schema))
}

const compatible = (): Compatibility => ({compatible: true, messages: []})
const incompatible = (...messages: string[]): Compatibility => ({compatible: false, messages})

async function avro(next: SchemaText, latest: SchemaText, resolve: ReferenceResolver): Promise<Compatibility> {
  const avsc = (await import('avsc')).default
  const typeOf = async (schema: SchemaText) => {
    const registry = {}
    for (const reference of schema.references) avsc.Type.forSchema(JSON.parse((await resolve(reference)).schema), {registry})
    return avsc.Type.forSchema(JSON.parse(schema.schema), {registry})
  }
  const [reader, writer] = [await typeOf(next), await typeOf(latest)]
  try {
    reader.createResolver(writer)
    return compatible()
  } catch (error) {
    return incompatible((error as Error).message)
  }
}

async function protobuf(next: SchemaText, latest: SchemaText): Promise<Compatibility> {
  const protobufjs = (await import('protobufjs')).default
  const messages = (text: string) => {
    const types = new Map<string, Map<number, {name: string; type: string; repeated: boolean}>>()
    if (!/^\s*(syntax|package|import|message|option|enum|edition)\b|^\s*\/[/*]/m.test(text)) return types
    const root = protobufjs.parse(text, {keepCase: true}).root
    const walk = (namespace: {nestedArray: unknown[]}) => {
      for (const nested of namespace.nestedArray) {
        if (nested instanceof protobufjs.Type) {
          types.set(nested.fullName, new Map(nested.fieldsArray.map((f) => [f.id, {name: f.name, type: f.type, repeated: f.repeated}])))
        }
        if ((nested as {nestedArray?: unknown[]}).nestedArray) walk(nested as {nestedArray: unknown[]})
      }
    }
    walk(root)
    return types
  }
  const before = messages(latest.schema)
  const after = messages(next.schema)
  const breaks: string[] = []
  for (const [name, fields] of before) {
    const now = after.get(name)
    if (!now) continue
    for (const [id, field] of fields) {
      const changed = now.get(id)
      if (changed && (changed.type !== field.type || changed.repeated !== field.repeated))
        breaks.push(`${name.replace(/^\./, '')}: field ${id} (${field.name}) was ${field.repeated ? 'repeated ' : ''}${field.type}, is ${changed.repeated ? 'repeated ' : ''}${changed.type}`)
    }
  }
  return breaks.length > 0 ? incompatible(...breaks) : compatible()
}

type Json = Record<string, unknown>

function jsonSchema(next: Json, latest: Json, path = ''): Compatibility {
  const breaks: string[] = []
  const here = path || '(root)'
  const types = (schema: Json) => (schema.type === undefined ? undefined : new Set([schema.type].flat() as string[]))
  const [was, is] = [types(latest), types(next)]
  if (is && (!was || [...was].some((t) => !is.has(t) && !(t === 'integer' && is.has('number')))))
    breaks.push(`${here}: type ${was ? [...was].join('|') : 'any'} narrowed to ${[...is].join('|')}`)
  const required = new Set((latest.required as string[] | undefined) ?? [])
  for (const name of (next.required as string[] | undefined) ?? []) if (!required.has(name)) breaks.push(`${here}: property "${name}" is newly required`)
  const before = (latest.properties as Record<string, Json> | undefined) ?? {}
  const after = (next.properties as Record<string, Json> | undefined) ?? {}
  for (const [name, schema] of Object.entries(before)) {
    if (after[name]) breaks.push(...jsonSchema(after[name], schema, `${path}.${name}`).messages)
    else if (next.additionalProperties === false) breaks.push(`${here}: property "${name}" is no longer allowed`)
  }
  return breaks.length > 0 ? incompatible(...breaks) : compatible()
}
