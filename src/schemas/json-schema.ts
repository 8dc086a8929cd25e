/**
 * JSON Schema codec: the payload is the JSON document itself. Encode validates it with ajv (the draft
 * its "$schema" names: draft-07 when absent, 2019-09, 2020-12; ajv-formats for "format") and writes it
 * compactly; decode prints it as one line and does not validate it (a reader shows what was written).
 */
import type {AnySchemaObject, Ajv as AjvCore, ErrorObject, Options, ValidateFunction} from 'ajv'
import {collectReferences, describeValue, parseSchemaJson, propertyStep} from './codecs.js'
import {parseJson, replaceBigints, stringifyJson} from './json-text.js'
import {SchemaParseError, SchemaPayloadError, SchemaValueError, type ReferenceResolver, type SchemaCodec, type SchemaText} from './types.js'

type AjvClass = new (options: Options) => AjvCore

const defaultOf = <T>(module: unknown): T => ((module as {default?: T}).default ?? module) as T

/** The ajv class for the draft a schema names, and whether its meta-schema can check the schema. */
async function ajvFor(draft: unknown): Promise<{Ajv: AjvClass; validateSchema: boolean; metaSchema?: AnySchemaObject}> {
  const uri = typeof draft === 'string' ? draft : ''
  if (uri.includes('2020-12')) return {Ajv: defaultOf<AjvClass>(await import('ajv/dist/2020.js')), validateSchema: true}
  if (uri.includes('2019-09')) return {Ajv: defaultOf<AjvClass>(await import('ajv/dist/2019.js')), validateSchema: true}
  const Ajv = defaultOf<AjvClass>(await import('ajv'))
  if (uri.includes('draft-06')) {
    const metaSchema = defaultOf<AnySchemaObject>(await import('ajv/dist/refs/json-schema-draft-06.json', {with: {type: 'json'}}))
    return {Ajv, validateSchema: true, metaSchema}
  }
  // draft-07, or none named; older drafts (04, 03) compile as draft-07 without checking against a meta-schema.
  return {Ajv, validateSchema: uri === '' || uri.includes('draft-07')}
}

export async function compileJsonSchema(schema: SchemaText, resolve: ReferenceResolver): Promise<SchemaCodec> {
  const document = parseSchemaJson(schema.schema, 'JSON schema')
  if (typeof document !== 'boolean' && (document === null || typeof document !== 'object' || Array.isArray(document))) {
    throw new SchemaParseError('JSON schema must be an object or a boolean')
  }
  const {Ajv, validateSchema, metaSchema} = await ajvFor(typeof document === 'object' ? (document as AnySchemaObject).$schema : undefined)
  const ajv = new Ajv({strict: false, allErrors: false, validateSchema, addUsedSchema: false})
  if (metaSchema) ajv.addMetaSchema(metaSchema)
  defaultOf<(ajv: AjvCore) => void>(await import('ajv-formats'))(ajv)

  const base = typeof document === 'object' ? (document as AnySchemaObject).$id : undefined
  let validate: ValidateFunction
  try {
    for (const reference of await collectReferences(schema, resolve)) {
      if (reference.schema.type !== 'JSON') throw new SchemaParseError(`JSON schema reference '${reference.name}' is a ${reference.schema.type} schema`)
      const referenced = parseSchemaJson(reference.schema.schema, `referenced schema '${reference.name}'`) as AnySchemaObject
      const keys = new Set([reference.name])
      // "$ref": "<name>" resolves against the referring schema's $id when it has one.
      if (typeof base === 'string' && URL.canParse(reference.name, base)) keys.add(new URL(reference.name, base).href)
      if (typeof referenced === 'object' && referenced !== null && typeof referenced.$id === 'string') keys.delete(referenced.$id)
      for (const key of keys) if (!ajv.getSchema(key)) ajv.addSchema(referenced, key)
    }
    validate = ajv.compile(document as AnySchemaObject)
  } catch (error) {
    if (error instanceof SchemaParseError) throw error
    throw new SchemaParseError(`JSON schema does not compile: ${(error as Error).message}`)
  }
  return new JsonSchemaCodec(validate)
}

const decoder = new TextDecoder('utf-8', {fatal: true, ignoreBOM: false})
const NEWLINE = /[\n\r\u2028\u2029]/

class JsonSchemaCodec implements SchemaCodec {
  readonly type = 'JSON' as const
  readonly #validate: ValidateFunction

  constructor(validate: ValidateFunction) {
    this.#validate = validate
  }

  decodeToJson(bytes: Uint8Array, start = 0, end = bytes.length): string {
    const payload = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)
    let text: string
    let value: unknown
    try {
      text = decoder.decode(payload)
      value = parseJson(text)
    } catch (error) {
      throw new SchemaPayloadError(`payload is not a JSON document: ${(error as Error).message}`)
    }
    // A one-line document prints as it was written (its numbers digit for digit); others compactly.
    return NEWLINE.test(text) ? stringifyJson(value) : text.trim()
  }

  encode(value: unknown, prefix: Uint8Array = new Uint8Array(0)): Buffer {
    if (!this.#validate(replaceBigints(value, Number))) {
      const error = this.#validate.errors![0]!
      const {path, detail} = explain(error, value)
      throw new SchemaValueError(path, detail)
    }
    const text = stringifyJson(value)
    const out = Buffer.allocUnsafe(prefix.length + Buffer.byteLength(text))
    out.set(prefix)
    out.write(text, prefix.length)
    return out
  }
}

/** ajv's first error as a readable path (".items[2].sku") and what is wrong there. */
function explain(error: ErrorObject, value: unknown): {path: string; detail: string} {
  let path = ''
  let data = value
  for (const raw of error.instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(data) && /^\d+$/.test(segment)) {
      path += `[${segment}]`
      data = data[Number(segment)]
    } else {
      path += propertyStep(segment)
      data = data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[segment] : undefined
    }
  }
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return {path: path + propertyStep(String(params.missingProperty)), detail: 'missing (a required property)'}
    case 'additionalProperties':
      return {path: path + propertyStep(String(params.additionalProperty)), detail: 'not allowed by the schema (additionalProperties)'}
    case 'unevaluatedProperties':
      return {path: path + propertyStep(String(params.unevaluatedProperty)), detail: 'not allowed by the schema (unevaluatedProperties)'}
  }
  const message = error.message ?? `fails ${error.keyword}`
  const got = data !== null && typeof data === 'object' ? '' : `, got ${describeValue(data)}`
  const allowed = error.keyword === 'enum' && Array.isArray(params.allowedValues) ? ` (${params.allowedValues.map((v) => describeValue(v)).join(', ')})` : ''
  return {path, detail: `${message}${allowed}${got}`}
}
