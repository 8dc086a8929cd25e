import type Database from 'better-sqlite3'
import {SpoolError} from '../../core/errors.js'
import {
  type Compatibility,
  type ImportingRegistry,
  type SubjectVersion,
  UnknownSchemaError,
  sameSchema,
  schemaTypeOf,
} from '../../schemas/registry.js'
import type {RegisteredSchema, SchemaReference, SchemaText} from '../../schemas/types.js'
import type {StoreAccess} from './store-file.js'

interface SchemaRow {
  id: number
  type: string
  schema: string
  refs: string
}

/**
 * The local store as a schema registry (store version 4): schemas and subjects in two tables of the store
 * file, so a captured feed stays readable with no registry server. A store opened for reading, or one of
 * an older version, answers from what it has (nothing, for the older one) and never writes.
 */
export class LocalRegistry implements ImportingRegistry {
  readonly location: string
  private readonly hasTables: boolean

  constructor(
    private readonly db: Database.Database,
    path: string,
    private readonly access: StoreAccess,
  ) {
    this.location = `store ${path}`
    this.hasTables = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'registry_schemas'").get() !== undefined
  }

  private rows<T>(sql: string, ...params: unknown[]): T[] {
    return this.hasTables ? (this.db.prepare(sql).all(...params) as T[]) : []
  }

  private writeAccess(): void {
    if (this.access !== 'write' || !this.hasTables) throw new SpoolError(`${this.location} was opened for reading; registering needs it opened for writing`)
  }

  async schemaById(id: number): Promise<RegisteredSchema> {
    const row = this.rows<SchemaRow>('SELECT id, type, schema, refs FROM registry_schemas WHERE id = ?', id)[0]
    if (!row) throw new UnknownSchemaError(`schema id ${id} is not in ${this.location}`, {hint: 'see the schemas it has with: spool schema list'})
    return fromRow(row)
  }

  async register(subject: string, schema: SchemaText): Promise<number> {
    this.writeAccess()
    // As a registry server does by default (BACKWARD): a new version must read what the latest wrote.
    // Registered anyway, it would break readers that decode with the latest version.
    const latest = this.liveVersions(subject).at(-1)
    if (latest && !this.lookupNow(subject, schema)) {
      const verdict = await this.checkCompatibility(subject, schema)
      if (!verdict.compatible)
        throw new SpoolError(`the schema is not compatible with ${subject} version ${latest.version}: ${verdict.messages.join('; ')}`, {
          hint: `the local store takes a new version that reads what the latest wrote (BACKWARD), as a registry server does by default; another subject takes any schema`,
        })
    }
    return this.db
      .transaction(() => {
        // The same schema under the same subject is the version it already is.
        const existing = this.lookupNow(subject, schema)
        if (existing) return existing.id
        const id = this.idFor(schema)
        const version = this.nextVersion(subject)
        this.db.prepare('INSERT INTO registry_subjects (subject, version, schema_id) VALUES (?, ?, ?)').run(subject, version, id)
        return id
      })
      .immediate()
  }

  /** The id of this schema, stored under a new one when it is not there yet. */
  private idFor(schema: SchemaText): number {
    const refs = JSON.stringify(schema.references)
    const found = this.db.prepare('SELECT id FROM registry_schemas WHERE type = ? AND schema = ? AND refs = ?').get(schema.type, schema.schema, refs) as {id: number} | undefined
    if (found) return found.id
    const next = (this.db.prepare('SELECT coalesce(max(id), 0) + 1 AS id FROM registry_schemas').get() as {id: number}).id
    this.db.prepare('INSERT INTO registry_schemas (id, type, schema, refs, created_at) VALUES (?, ?, ?, ?, ?)').run(next, schema.type, schema.schema, refs, Date.now())
    return next
  }

  private nextVersion(subject: string): number {
    return (this.db.prepare('SELECT coalesce(max(version), 0) + 1 AS v FROM registry_subjects WHERE subject = ?').get(subject) as {v: number}).v
  }

  private liveVersions(subject: string): SubjectVersion[] {
    return this.rows<SchemaRow & {subject: string; version: number}>(
      `SELECT s.subject, s.version, r.id, r.type, r.schema, r.refs FROM registry_subjects s JOIN registry_schemas r ON r.id = s.schema_id
       WHERE s.subject = ? AND s.deleted = 0 ORDER BY s.version`,
      subject,
    ).map((row) => ({...fromRow(row), subject: row.subject, version: row.version}))
  }

  private lookupNow(subject: string, schema: SchemaText): SubjectVersion | undefined {
    return this.liveVersions(subject).find((version) => sameSchema(version, schema))
  }

  async lookup(subject: string, schema: SchemaText): Promise<SubjectVersion | undefined> {
    return this.lookupNow(subject, schema)
  }

  async subjectVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    const versions = this.liveVersions(subject)
    if (versions.length === 0) throw new UnknownSchemaError(`subject '${subject}' is not in ${this.location}`, {hint: 'see the subjects with: spool schema list'})
    const found = version === 'latest' ? versions.at(-1) : versions.find((v) => v.version === version)
    if (!found) throw new UnknownSchemaError(`subject '${subject}' has no version ${version} in ${this.location}`, {hint: `its versions: ${versions.map((v) => v.version).join(', ')}`})
    return found
  }

  async subjects(): Promise<string[]> {
    return this.rows<{subject: string}>('SELECT DISTINCT subject FROM registry_subjects WHERE deleted = 0 ORDER BY subject').map((row) => row.subject)
  }

  async versions(subject: string): Promise<number[]> {
    const versions = this.liveVersions(subject).map((v) => v.version)
    if (versions.length === 0) throw new UnknownSchemaError(`subject '${subject}' is not in ${this.location}`, {hint: 'see the subjects with: spool schema list'})
    return versions
  }

  async checkCompatibility(subject: string, schema: SchemaText): Promise<Compatibility> {
    const latest = this.liveVersions(subject).at(-1)
    if (!latest) return {compatible: true, messages: []}
    const {backwardCompatibility} = await import('../../schemas/compatibility.js')
    return backwardCompatibility(schema, latest, (reference) => this.referenced(reference))
  }

  /** A referenced schema, for compiling one that imports it. */
  async referenced(reference: SchemaReference): Promise<SchemaText> {
    return this.subjectVersion(reference.subject, reference.version)
  }

  async deleteSubject(subject: string, version?: number): Promise<number[]> {
    this.writeAccess()
    const versions = await this.versions(subject)
    if (version !== undefined && !versions.includes(version))
      throw new UnknownSchemaError(`subject '${subject}' has no version ${version} in ${this.location}`, {hint: `its versions: ${versions.join(', ')}`})
    const deleted = version === undefined ? versions : [version]
    const mark = this.db.prepare('UPDATE registry_subjects SET deleted = 1 WHERE subject = ? AND version = ?')
    this.db.transaction(() => deleted.forEach((v) => mark.run(subject, v))).immediate()
    return deleted
  }

  async subjectVersionsOf(id: number): Promise<{subject: string; version: number}[]> {
    return this.rows<{subject: string; version: number}>('SELECT subject, version FROM registry_subjects WHERE schema_id = ? AND deleted = 0 ORDER BY subject, version', id)
  }

  /**
   * Takes a schema under the id another registry gave it, so that records framed with that id read back
   * here unchanged. An id this store already uses for a different schema cannot be taken: the records
   * would then name the wrong schema.
   */
  async importSchema(schema: RegisteredSchema, subjects: {subject: string; version: number}[]): Promise<void> {
    this.writeAccess()
    this.db
      .transaction(() => {
        const existing = this.db.prepare('SELECT id, type, schema, refs FROM registry_schemas WHERE id = ?').get(schema.id) as SchemaRow | undefined
        if (existing && !sameSchema(fromRow(existing), schema))
          throw new SpoolError(`schema id ${schema.id} of the source registry is a different schema in ${this.location}; the copied records could not be read back`, {
            hint: 'copy into a store that does not hold schemas of its own (a new -b file:PATH)',
          })
        if (!existing)
          this.db.prepare('INSERT INTO registry_schemas (id, type, schema, refs, created_at) VALUES (?, ?, ?, ?, ?)').run(schema.id, schema.type, schema.schema, JSON.stringify(schema.references), Date.now())
        for (const {subject, version} of subjects) {
          const taken = this.db.prepare('SELECT schema_id FROM registry_subjects WHERE subject = ? AND version = ?').get(subject, version) as {schema_id: number} | undefined
          if (taken) continue
          if (this.lookupNow(subject, schema)) continue
          this.db.prepare('INSERT INTO registry_subjects (subject, version, schema_id) VALUES (?, ?, ?)').run(subject, version, schema.id)
        }
      })
      .immediate()
  }
}

function fromRow(row: SchemaRow): RegisteredSchema {
  return {id: row.id, type: schemaTypeOf(row.type), schema: row.schema, references: JSON.parse(row.refs) as SchemaReference[]}
}
