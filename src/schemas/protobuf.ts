/**
 * Protobuf codec for Confluent's framing: the payload starts with the message indexes (zigzag varints:
 * their count, then each index; a single 0 byte means [0], the file's first message), then the message.
 * Values cross in the proto3 JSON mapping (protobufjs's ext/protojson). The schema text is .proto
 * source or a base64 serialized FileDescriptorProto (as Confluent's Python client registers it); its
 * imports come from the schema's references by import path, or are google/protobuf well-known types.
 */
import type * as Protobuf from 'protobufjs'
import type * as Descriptor from 'protobufjs/ext/descriptor.js'
import type * as ProtoJson from 'protobufjs/ext/protojson.js'
import {replaceBigints} from './json-text.js'
import {collectReferences, describeValue, propertyStep} from './codecs.js'
import {SchemaParseError, SchemaPayloadError, SchemaValueError, type ReferenceResolver, type SchemaCodec, type SchemaText} from './types.js'

type ProtobufModule = typeof Protobuf
type DescriptorModule = typeof Descriptor
type ProtoJsonModule = typeof ProtoJson

interface Libraries {
  protobuf: ProtobufModule
  descriptor: DescriptorModule
  protojson: ProtoJsonModule
}

const defaultOf = <T>(module: unknown): T => ((module as {default?: T}).default ?? module) as T

/** A message of the schema's own file, by its full name, with its nested messages in declaration order. */
interface MessageNode {
  name: string
  nested: MessageNode[]
}

/** Well-known files protobufjs ships as JSON beside its bundled common ones. */
const SHIPPED_GOOGLE = new Set(['descriptor', 'api', 'type', 'source_context'])

const BASE64 = /^[A-Za-z0-9+/\s]+={0,2}\s*$/

export async function compileProtobuf(schema: SchemaText, resolve: ReferenceResolver, messageName?: string): Promise<SchemaCodec> {
  const protobuf = defaultOf<ProtobufModule>(await import('protobufjs'))
  const libraries: Libraries = {
    protobuf,
    descriptor: defaultOf<DescriptorModule>(await import('protobufjs/ext/descriptor.js')),
    protojson: defaultOf<ProtoJsonModule>(await import('protobufjs/ext/protojson.js')),
  }
  const references = new Map<string, SchemaText>()
  for (const reference of await collectReferences(schema, resolve)) {
    if (reference.schema.type !== 'PROTOBUF') throw new SchemaParseError(`Protobuf import '${reference.name}' is a ${reference.schema.type} schema`)
    if (!references.has(reference.name)) references.set(reference.name, reference.schema)
  }

  const root = new protobuf.Root()
  const loaded = new Set<string>()
  const missing: string[] = []
  const load = async (path: string, depth: number): Promise<void> => {
    if (loaded.has(path)) return
    loaded.add(path)
    if (depth > 64) throw new SchemaParseError(`imports nest more than 64 levels deep at '${path}'`)
    const referenced = references.get(path)
    if (referenced) {
      const file = readFile(libraries, referenced.schema, `imported file '${path}'`)
      for (const dependency of file.imports) await load(dependency, depth + 1)
      merge(root, file.root)
      return
    }
    const common = (protobuf.common as unknown as Record<string, Protobuf.INamespace | undefined>)[path]
    const google = /^google\/protobuf\/(\w+)\.proto$/.exec(path)
    if (common) {
      merge(root, protobuf.Root.fromJSON(common))
    } else if (google && SHIPPED_GOOGLE.has(google[1]!)) {
      const json = defaultOf<Protobuf.INamespace>(await import(`protobufjs/google/protobuf/${google[1]}.json`, {with: {type: 'json'}}))
      merge(root, protobuf.Root.fromJSON(json))
    } else {
      missing.push(path)
    }
  }

  const main = readFile(libraries, schema.schema, 'Protobuf schema')
  for (const dependency of main.imports) await load(dependency, 1)
  merge(root, main.root)
  try {
    root.resolveAll()
  } catch (error) {
    const unresolved = missing.length ? ` (imports without a reference: ${missing.join(', ')})` : ''
    throw new SchemaParseError(`Protobuf schema does not resolve: ${(error as Error).message}${unresolved}`)
  }
  return new ProtobufCodec(libraries, root, main.messages, messageName)
}

/** One file's definitions in a root of their own, its imports, and its messages in index order. */
function readFile({protobuf, descriptor}: Libraries, text: string, what: string): {root: Protobuf.Root; imports: string[]; messages: MessageNode[]} {
  if (text.trim() && BASE64.test(text)) {
    let file: Descriptor.IFileDescriptorProto
    let root: Protobuf.Root
    try {
      file = descriptor.FileDescriptorProto.decode(Buffer.from(text, 'base64')) as unknown as Descriptor.IFileDescriptorProto
      root = protobuf.Root.fromDescriptor({file: [file]})
    } catch (error) {
      throw new SchemaParseError(`${what} is neither .proto source nor a base64 FileDescriptorProto: ${(error as Error).message}`)
    }
    const prefix = file.package ? `${file.package}.` : ''
    const node = (message: Descriptor.IDescriptorProto, scope: string): MessageNode => {
      const name = scope + (message.name ?? '')
      return {name, nested: (message.nestedType ?? []).map((nested) => node(nested, `${name}.`))}
    }
    return {root, imports: [...(file.dependency ?? [])], messages: (file.messageType ?? []).map((message) => node(message, prefix))}
  }
  const root = new protobuf.Root()
  let parsed: Protobuf.IParserResult
  try {
    parsed = protobuf.parse(text, root, {keepCase: false, alternateCommentMode: true})
  } catch (error) {
    const message = (error as Error).message
    const line = /\bline (\d+)\)?$/.exec(message)
    throw new SchemaParseError(`${what}: ${message.replace(/\s*\((?:[^()]*, )?line \d+\)$/, '')}`, line ? Number(line[1]) : undefined)
  }
  const scope = parsed.package ? root.lookup(parsed.package) : root
  const node = (type: Protobuf.Type): MessageNode => ({
    name: type.fullName.slice(1),
    nested: type.nestedArray.filter((nested): nested is Protobuf.Type => nested instanceof protobuf.Type).map(node),
  })
  const messages = scope instanceof protobuf.Namespace ? scope.nestedArray.filter((nested): nested is Protobuf.Type => nested instanceof protobuf.Type).map(node) : []
  return {root, imports: [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])], messages}
}

/** Moves a file's definitions into the shared root (packages that both declare merge). */
function merge(into: Protobuf.Root, from: Protobuf.Root): void {
  for (const object of [...from.nestedArray]) {
    from.remove(object)
    try {
      into.add(object)
    } catch (error) {
      throw new SchemaParseError(`Protobuf schema: ${(error as Error).message}`)
    }
  }
}

function zigzag(n: number, out: number[]): void {
  let v = n >= 0 ? n * 2 : -n * 2 - 1
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
}

class ProtobufCodec implements SchemaCodec {
  readonly type = 'PROTOBUF' as const
  readonly #lib: Libraries
  readonly #root: Protobuf.Root
  readonly #messages: MessageNode[]
  readonly #byIndexes = new Map<string, Protobuf.Type>()
  readonly #encodeAs: {type: Protobuf.Type; prefix: Uint8Array} | undefined

  constructor(lib: Libraries, root: Protobuf.Root, messages: MessageNode[], messageName: string | undefined) {
    this.#lib = lib
    this.#root = root
    this.#messages = messages
    const all: Array<{node: MessageNode; indexes: number[]}> = []
    const walk = (nodes: MessageNode[], indexes: number[]) =>
      nodes.forEach((node, i) => {
        all.push({node, indexes: [...indexes, i]})
        walk(node.nested, [...indexes, i])
      })
    walk(messages, [])
    let chosen: {node: MessageNode; indexes: number[]} | undefined
    if (messageName !== undefined) {
      const wanted = messageName.replace(/^\./, '')
      const matches = all.filter(({node}) => node.name === wanted || node.name.endsWith(`.${wanted}`))
      const exact = matches.find(({node}) => node.name === wanted)
      if (!exact && matches.length > 1) {
        throw new SchemaParseError(`message name '${messageName}' is ambiguous: ${matches.map(({node}) => node.name).join(', ')}`)
      }
      chosen = exact ?? matches[0]
      if (!chosen) throw new SchemaParseError(`the schema has no message '${messageName}' (its messages: ${all.map(({node}) => node.name).join(', ') || 'none'})`)
    } else if (messages.length === 1) {
      chosen = all[0]
    }
    if (chosen) {
      const type = this.#typeAt(chosen.indexes)
      if (!type) throw new SchemaParseError(`'${chosen.node.name}' is not a message protobufjs can encode (a map entry?)`)
      const prefix: number[] = []
      if (chosen.indexes.length === 1 && chosen.indexes[0] === 0) prefix.push(0)
      else {
        zigzag(chosen.indexes.length, prefix)
        for (const index of chosen.indexes) zigzag(index, prefix)
      }
      this.#encodeAs = {type, prefix: Uint8Array.from(prefix)}
    }
  }

  #typeAt(indexes: number[]): Protobuf.Type | undefined {
    const key = indexes.join(',')
    const known = this.#byIndexes.get(key)
    if (known) return known
    let nodes = this.#messages
    let node: MessageNode | undefined
    for (const index of indexes) {
      node = nodes[index]
      if (!node) return undefined
      nodes = node.nested
    }
    if (!node) return undefined
    const found = this.#root.lookup(node.name)
    if (!(found instanceof this.#lib.protobuf.Type)) return undefined
    this.#byIndexes.set(key, found)
    return found
  }

  decodeToJson(bytes: Uint8Array, start = 0, end = bytes.length): string {
    const payload = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)
    let pos = 0
    const varint = (): number => {
      let value = 0
      let scale = 1
      for (;;) {
        if (pos >= payload.length) throw new SchemaPayloadError('payload ends inside its message indexes')
        const byte = payload[pos++]!
        value += (byte & 0x7f) * scale
        if (!(byte & 0x80)) break
        scale *= 128
        if (scale > 2 ** 35) throw new SchemaPayloadError('payload has a malformed message index')
      }
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2
    }
    const count = varint()
    let indexes: number[]
    if (count === 0) indexes = [0]
    else {
      if (count < 0 || count > 100) throw new SchemaPayloadError(`payload has ${count} message indexes`)
      indexes = []
      for (let i = 0; i < count; i++) indexes.push(varint())
    }
    const type = this.#typeAt(indexes)
    if (!type) throw new SchemaPayloadError(`payload's message indexes [${indexes.join(', ')}] name no message of the schema`)
    let json: unknown
    try {
      const message = type.decode(payload.subarray(pos))
      json = this.#lib.protojson.toJson(type, message)
    } catch (error) {
      throw new SchemaPayloadError(`payload is not a valid ${type.fullName.slice(1)}: ${(error as Error).message}`)
    }
    return JSON.stringify(json)
  }

  encode(value: unknown, prefix: Uint8Array = new Uint8Array(0)): Buffer {
    const target = this.#encodeAs
    if (!target) {
      const names = this.#messages.map((node) => node.name)
      throw new SchemaParseError(
        names.length === 0
          ? 'the Protobuf schema defines no message'
          : `the Protobuf schema defines several messages (${names.join(', ')}): pass --value-message or --key-message with the one to write`,
      )
    }
    const json = replaceBigints(value, String)
    let message: Protobuf.Message
    try {
      message = this.#lib.protojson.fromJson(target.type, json)
    } catch (error) {
      const found = locate(this.#lib, target.type, json, '') ?? {path: '', detail: (error as Error).message}
      throw new SchemaValueError(found.path, found.detail)
    }
    const body = target.type.encode(message).finish()
    const out = Buffer.allocUnsafe(prefix.length + target.prefix.length + body.length)
    out.set(prefix)
    out.set(target.prefix, prefix.length)
    out.set(body, prefix.length + target.prefix.length)
    return out
  }
}

// ---- where a value does not fit ----

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function fails(lib: Libraries, type: Protobuf.Type, json: unknown): string | undefined {
  try {
    lib.protojson.fromJson(type, json)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

function fieldLabel(lib: Libraries, field: Protobuf.Field): string {
  const resolved = field.resolvedType
  if (resolved instanceof lib.protobuf.Enum) return `${resolved.fullName.slice(1)} (one of ${Object.keys(resolved.values).join(', ')})`
  if (resolved instanceof lib.protobuf.Type) return resolved.fullName.slice(1)
  if (/^u?int64$|^s?fixed64$|^sint64$/.test(field.type)) return `${field.type} (an integer or a decimal string)`
  if (field.type === 'bytes') return 'bytes (base64)'
  return field.type
}

/** protojson's reason without the element name it starts with ("pkg.Msg.qty: out of range" -> "out of range"). */
function reason(message: string): string {
  return message.replace(/^[.\w]+: /, '').replace(/: (?:".*"|[^:]*)$/, '')
}

function leaf(lib: Libraries, field: Protobuf.Field, value: unknown, message: string, path: string): {path: string; detail: string} {
  const why = reason(message)
  const note = why.startsWith('expected') ? '' : ` (${why})`
  return {path, detail: `expected ${fieldLabel(lib, field)}, got ${describeValue(value)}${note}`}
}

const WELL_KNOWN = /^\.google\.protobuf\./

/** Narrows protojson's first complaint down to the field (and element) it is about. */
function locate(lib: Libraries, type: Protobuf.Type, value: unknown, path: string): {path: string; detail: string} | undefined {
  if (WELL_KNOWN.test(type.fullName) || !isObject(value)) {
    const message = fails(lib, type, value)
    return message === undefined ? undefined : {path, detail: `expected ${type.fullName.slice(1)}, got ${describeValue(value)} (${reason(message)})`}
  }
  const byJsonName = new Map<string, Protobuf.Field>()
  for (const field of type.fieldsArray) {
    byJsonName.set(field.name, field)
    if (field.jsonName) byJsonName.set(field.jsonName, field)
  }
  for (const key in value) {
    const field = byJsonName.get(key)
    const here = path + propertyStep(key)
    if (!field) return {path: here, detail: `not a field of ${type.fullName.slice(1)}`}
    const fieldValue = value[key]
    const message = fails(lib, type, {[key]: fieldValue})
    if (message === undefined) continue
    const nested = field.resolvedType instanceof lib.protobuf.Type ? field.resolvedType : undefined
    if (field.map && isObject(fieldValue)) {
      for (const mapKey in fieldValue) {
        const at = here + propertyStep(mapKey)
        if (nested) {
          const found = locate(lib, nested, fieldValue[mapKey], at)
          if (found) return found
        }
        const inner = fails(lib, type, {[key]: {[mapKey]: fieldValue[mapKey]}})
        if (inner !== undefined) return leaf(lib, field, fieldValue[mapKey], inner, /map key/.test(inner) ? here : at)
      }
    } else if (field.repeated && !field.map && Array.isArray(fieldValue)) {
      for (let i = 0; i < fieldValue.length; i++) {
        if (nested && fieldValue[i] !== null) {
          const found = locate(lib, nested, fieldValue[i], `${here}[${i}]`)
          if (found) return found
        }
        const inner = fails(lib, type, {[key]: [fieldValue[i]]})
        if (inner !== undefined) return leaf(lib, field, fieldValue[i], inner, `${here}[${i}]`)
      }
    } else if (nested && !field.repeated && !field.map) {
      const found = locate(lib, nested, fieldValue, here)
      if (found) return found
    }
    return leaf(lib, field, fieldValue, message, here)
  }
  const message = fails(lib, type, value)
  return message === undefined ? undefined : {path, detail: reason(message)}
}
