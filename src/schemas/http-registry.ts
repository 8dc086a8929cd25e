import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {
  type Compatibility,
  RegistryError,
  type SchemaRegistry,
  type SubjectVersion,
  UnknownSchemaError,
  schemaTypeOf,
} from './registry.js'
import type {RegisteredSchema, SchemaReference, SchemaText} from './types.js'

export interface HttpRegistryOptions {
  /** The API root, e.g. http://host:8081 or http://host:8080/apis/ccompat/v7. */
  url: string
  username?: string
  password?: string
  /** PEM text of the certificate authorities to trust for https. */
  ca?: string
  /** How long one request may take, in ms. */
  timeoutMs: number
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

interface SchemaAnswer {
  id?: number
  subject?: string
  version?: number
  schema: string
  schemaType?: string
  references?: SchemaReference[]
}

/**
 * A Confluent-compatible schema registry over its REST API (Confluent's own, Apicurio's /apis/ccompat/v7,
 * Redpanda's). Answers are cached by id: a schema id never changes its schema.
 */
export class HttpRegistry implements SchemaRegistry {
  readonly location: string
  private readonly base: URL
  private readonly byId = new Map<number, Promise<RegisteredSchema>>()

  constructor(private readonly options: HttpRegistryOptions) {
    let base: URL
    try {
      base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`)
    } catch {
      throw new RegistryError(`'${options.url}' is not a registry URL`, undefined, {hint: 'use http://host:port or https://host:port'})
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new RegistryError(`'${options.url}' is not a registry URL`, undefined, {hint: 'use http://host:port or https://host:port'})
    this.base = base
    this.location = `registry ${options.url}`
  }

  schemaById(id: number): Promise<RegisteredSchema> {
    let answer = this.byId.get(id)
    if (!answer) {
      answer = this.call<SchemaAnswer>('GET', `schemas/ids/${id}`).then((a) => ({id, ...schemaOf(a)}))
      answer.catch(() => this.byId.delete(id))
      this.byId.set(id, answer)
    }
    return answer
  }

  async register(subject: string, schema: SchemaText): Promise<number> {
    const answer = await this.call<{id: number}>('POST', `subjects/${encodeURIComponent(subject)}/versions`, body(schema))
    return answer.id
  }

  async lookup(subject: string, schema: SchemaText): Promise<SubjectVersion | undefined> {
    try {
      const answer = await this.call<SchemaAnswer>('POST', `subjects/${encodeURIComponent(subject)}`, body(schema))
      return {id: answer.id!, subject: answer.subject ?? subject, version: answer.version!, ...schemaOf({...answer, schema: answer.schema ?? schema.schema, schemaType: answer.schemaType ?? schema.type})}
    } catch (error) {
      if (error instanceof UnknownSchemaError) return undefined
      throw error
    }
  }

  async subjectVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    const answer = await this.call<SchemaAnswer>('GET', `subjects/${encodeURIComponent(subject)}/versions/${version}`)
    return {id: answer.id!, subject: answer.subject ?? subject, version: answer.version!, ...schemaOf(answer)}
  }

  subjects(): Promise<string[]> {
    return this.call<string[]>('GET', 'subjects')
  }

  versions(subject: string): Promise<number[]> {
    return this.call<number[]>('GET', `subjects/${encodeURIComponent(subject)}/versions`)
  }

  async checkCompatibility(subject: string, schema: SchemaText): Promise<Compatibility> {
    try {
      const answer = await this.call<{is_compatible: boolean; messages?: unknown[]}>(
        'POST',
        `compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`,
        body(schema),
      )
      return {compatible: answer.is_compatible, messages: (answer.messages ?? []).map(String)}
    } catch (error) {
      // A subject with no versions yet: anything may be its first.
      if (error instanceof UnknownSchemaError) return {compatible: true, messages: []}
      throw error
    }
  }

  async deleteSubject(subject: string, version?: number): Promise<number[]> {
    if (version === undefined) return this.call<number[]>('DELETE', `subjects/${encodeURIComponent(subject)}`)
    return [await this.call<number>('DELETE', `subjects/${encodeURIComponent(subject)}/versions/${version}`)]
  }

  async subjectVersionsOf(id: number): Promise<{subject: string; version: number}[]> {
    try {
      return await this.call<{subject: string; version: number}[]>('GET', `schemas/ids/${id}/versions`)
    } catch (error) {
      if (error instanceof RegistryError && (error.status === 404 || error.status === 405)) return []
      throw error
    }
  }

  private call<T>(method: string, path: string, payload?: string): Promise<T> {
    const url = new URL(path, this.base)
    const {username, password, ca, timeoutMs} = this.options
    const headers: Record<string, string> = {accept: `${CONTENT_TYPE}, application/json`}
    if (payload !== undefined) headers['content-type'] = CONTENT_TYPE
    if (username !== undefined) headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise<T>((resolve, reject) => {
      const req = send(url, {method, headers, ca, timeout: timeoutMs}, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', (error) => reject(this.unreachable(error)))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown
          try {
            parsed = text ? JSON.parse(text) : undefined
          } catch {
            parsed = undefined
          }
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300 && parsed !== undefined) resolve(parsed as T)
          else reject(this.refusal(method, path, status, parsed, text))
        })
      })
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000}s`), {code: 'ETIMEDOUT'})))
      req.on('error', (error) => reject(this.unreachable(error)))
      req.end(payload)
    })
  }

  private unreachable(error: Error & {code?: string}): RegistryError {
    const why =
      error.code === 'ECONNREFUSED' ? 'connection refused'
      : error.code === 'ENOTFOUND' ? 'unknown host'
      : error.code === 'ETIMEDOUT' ? error.message
      : error.message
    return new RegistryError(`schema registry ${this.options.url} is unreachable (${why})`, undefined, {
      hint: 'check --registry (or the context\'s registry) and that the registry is running',
      cause: error,
    })
  }

  private refusal(method: string, path: string, status: number, answer: unknown, text: string): Error {
    const detail = typeof answer === 'object' && answer !== null ? (answer as {message?: unknown}).message : undefined
    const code = typeof answer === 'object' && answer !== null ? Number((answer as {error_code?: unknown}).error_code) : NaN
    const said = String(detail ?? (text.trim().slice(0, 200) || `HTTP ${status}`))
    const where = `schema registry ${this.options.url}`
    if (status === 401) return new RegistryError(`${where} refused the credentials (401 Unauthorized)`, status, {hint: 'check --registry-username and SPOOL_REGISTRY_PASSWORD'})
    if (status === 403) return new RegistryError(`${where} denied ${method} ${path} (403 Forbidden)`, status, {hint: 'the user lacks the permission for this'})
    if (status === 404 && (code === 40401 || code === 40402 || code === 40403 || code === 40400 || Number.isNaN(code) || /not found/i.test(said)))
      return new UnknownSchemaError(`${said} (${where})`)
    if (status === 409) return new RegistryError(`${where} refused the schema as incompatible (409): ${said}`, status)
    if (status === 422) return new RegistryError(`${where} refused the schema as invalid (422): ${said}`, status)
    return new RegistryError(`${where} answered ${status} to ${method} ${path}: ${said}`, status)
  }
}

function body(schema: SchemaText): string {
  const payload: Record<string, unknown> = {schema: schema.schema}
  // Confluent's own registry wants schemaType left out for Avro, its default.
  if (schema.type !== 'AVRO') payload.schemaType = schema.type
  if (schema.references.length > 0) payload.references = schema.references
  return JSON.stringify(payload)
}

function schemaOf(answer: SchemaAnswer): SchemaText {
  return {type: schemaTypeOf(answer.schemaType), schema: answer.schema, references: answer.references ?? []}
}
