import {existsSync, readFileSync} from 'node:fs'
import {dirname, extname, join, resolve} from 'node:path'
import {SpoolError, UsageError} from '../core/errors.js'
import {compileSchema} from './codecs.js'
import {frameOf} from './framing.js'
import type {SchemaRegistry} from './registry.js'
import {type SchemaCodec, SchemaParseError, type SchemaReference, type SchemaText, type SchemaType} from './types.js'

/** The format a schema file holds, by its name: .avsc Avro, .proto Protobuf, .json JSON Schema. */
export function schemaTypeOfFile(path: string): SchemaType {
  const extension = extname(path).toLowerCase()
  if (extension === '.avsc') return 'AVRO'
  if (extension === '.proto') return 'PROTOBUF'
  if (extension === '.json') return 'JSON'
  throw new UsageError(`cannot tell the format of schema file ${path}`, 'name it .avsc (Avro), .proto (Protobuf) or .json (JSON Schema)')
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`cannot read schema file ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
  }
}

/** Protobuf imports that a registry must hold as references; Google's well-known types every reader has. */
function localImports(text: string): string[] {
  const imports: string[] = []
  for (const match of text.matchAll(/^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm))
    if (!match[1]!.startsWith('google/protobuf/')) imports.push(match[1]!)
  return imports
}

export interface FileSchema {
  schema: SchemaText
  codec: SchemaCodec
}

/**
 * Reads and compiles a schema file. A .proto's imports are files beside it: each is registered (or, with
 * register off, looked up) under its import path as subject, the way Confluent's serializers do, and
 * referenced by the schema. A file that does not parse fails with its name, line and column.
 */
export async function readSchemaFile(
  path: string,
  registry: SchemaRegistry,
  options: {register: boolean; messageName?: string},
): Promise<FileSchema> {
  const type = schemaTypeOfFile(path)
  const text = readText(path)
  const references: SchemaReference[] = []
  if (type === 'PROTOBUF') {
    for (const name of localImports(text)) {
      const file = [join(dirname(path), name), resolve(name)].find((candidate) => existsSync(candidate))
      if (!file) throw new UsageError(`${path} imports "${name}", which is neither beside it nor under the current directory`)
      const imported = await readSchemaFile(file, registry, {register: options.register})
      // A registry answers a registration with the id only; the lookup gives the version to reference.
      if (options.register) await registry.register(name, imported.schema)
      const version = await registry.lookup(name, imported.schema)
      if (!version) throw new SpoolError(`${file} (imported as "${name}") is not registered in ${registry.location}`, {hint: 'drop --no-register to register it'})
      references.push({name, subject: version.subject, version: version.version})
    }
  }
  const schema: SchemaText = {type, schema: text, references}
  try {
    const codec = await compileSchema(schema, (reference) => registry.subjectVersion(reference.subject, reference.version), {messageName: options.messageName})
    return {schema, codec}
  } catch (error) {
    if (error instanceof SchemaParseError) throw new SpoolError(`${path}:${error.line === undefined ? ' ' : ''}${error.message}`, {hint: error.hint})
    throw error
  }
}

export interface WriteSchema {
  id: number
  codec: SchemaCodec
  /** The frame every key or value written with it starts with. */
  frame: Buffer
}

/**
 * The schema a produce writes with: `@SUBJECT[:VERSION]` names a registered one; anything else is a file,
 * registered under `subject` unless it is there already (or only looked up, with register off).
 */
export async function writeSchema(
  spec: string,
  subject: string,
  registry: SchemaRegistry,
  options: {register: boolean; messageName?: string; flag: string},
): Promise<WriteSchema> {
  if (spec.startsWith('@')) {
    const match = /^@(.+?)(?::(\d+|latest))?$/.exec(spec)
    if (!match) throw new UsageError(`${options.flag} '${spec}' is not @SUBJECT[:VERSION]`)
    const version = await registry.subjectVersion(match[1]!, match[2] === undefined || match[2] === 'latest' ? 'latest' : Number(match[2]))
    const codec = await compileSchema(version, (reference) => registry.subjectVersion(reference.subject, reference.version), {messageName: options.messageName})
    return {id: version.id, codec, frame: frameOf(version.id)}
  }
  const file = await readSchemaFile(spec, registry, options)
  if (options.register) {
    const id = await registry.register(subject, file.schema)
    return {id, codec: file.codec, frame: frameOf(id)}
  }
  const found = await registry.lookup(subject, file.schema)
  if (!found) throw new SpoolError(`${spec} is not registered under subject '${subject}' in ${registry.location}`, {hint: 'drop --no-register to register it'})
  return {id: found.id, codec: file.codec, frame: frameOf(found.id)}
}
