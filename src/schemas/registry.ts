import {SpoolError} from '../core/errors.js'
import type {RegisteredSchema, SchemaText, SchemaType} from './types.js'

/** A version of a subject, with the schema it points at. */
export interface SubjectVersion extends RegisteredSchema {
  subject: string
  version: number
}

export interface Compatibility {
  compatible: boolean
  /** The registry's reasons when it is not. */
  messages: string[]
}

/**
 * The Confluent schema registry's model, whichever keeps it: a registry server over HTTP, or the local
 * store itself. Ids are global; the same schema registered again (in any subject) keeps its id.
 */
export interface SchemaRegistry {
  /** Where the schemas live, for messages: a URL or "store PATH". */
  readonly location: string
  /** Throws UnknownSchemaError. */
  schemaById(id: number): Promise<RegisteredSchema>
  /** Registers the schema under the subject (a new version unless it is the latest already); returns its id. */
  register(subject: string, schema: SchemaText): Promise<number>
  /** The subject's version holding exactly this schema, if any. */
  lookup(subject: string, schema: SchemaText): Promise<SubjectVersion | undefined>
  /** Throws UnknownSchemaError when the subject or the version is not there. */
  subjectVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion>
  subjects(): Promise<string[]>
  versions(subject: string): Promise<number[]>
  /** Whether the schema could be registered as the subject's next version. */
  checkCompatibility(subject: string, schema: SchemaText): Promise<Compatibility>
  /** Deletes the whole subject, or one version; returns the versions deleted. */
  deleteSubject(subject: string, version?: number): Promise<number[]>
  /** The subject versions that point at a schema id (for copying a schema with its subjects). */
  subjectVersionsOf(id: number): Promise<{subject: string; version: number}[]>
}

/** A registry that can take a schema under the id another registry gave it (the local store can). */
export interface ImportingRegistry extends SchemaRegistry {
  importSchema(schema: RegisteredSchema, subjects: {subject: string; version: number}[]): Promise<void>
}

export class UnknownSchemaError extends SpoolError {}

/** The registry answered with a refusal (401, 403, 409, 422, ...) or could not be reached. */
export class RegistryError extends SpoolError {
  constructor(
    message: string,
    readonly status?: number,
    options: {hint?: string; cause?: unknown} = {},
  ) {
    super(message, options)
  }
}

/** Confluent's default subject name strategy (TopicNameStrategy). */
export function subjectFor(topic: string, part: 'key' | 'value'): string {
  return `${topic}-${part}`
}

export const SCHEMA_TYPES: readonly SchemaType[] = ['AVRO', 'PROTOBUF', 'JSON']

/** Confluent omits schemaType for Avro; Apicurio sends it. */
export function schemaTypeOf(value: unknown): SchemaType {
  if (value === undefined || value === null || value === '') return 'AVRO'
  const upper = String(value).toUpperCase()
  if ((SCHEMA_TYPES as readonly string[]).includes(upper)) return upper as SchemaType
  throw new SpoolError(`the registry answered with an unknown schema type ${JSON.stringify(value)}`)
}

/** Two schema texts are the same schema for registration when type, text and references are equal. */
export function sameSchema(a: SchemaText, b: SchemaText): boolean {
  return a.type === b.type && a.schema === b.schema && JSON.stringify(a.references) === JSON.stringify(b.references)
}
