import type {Backend, GroupOffset} from '../core/backend.js'
import type {RecordBatch} from '../core/record.js'
import type {RecordSink} from './sinks.js'
import {frameId} from '../schemas/framing.js'
import {type ImportingRegistry, type SchemaRegistry, UnknownSchemaError} from '../schemas/registry.js'

/**
 * Copies the schemas that copied records name from the source's registry into the destination store's
 * own, under the same ids (and subjects), so the copy decodes with no registry server. Each id is copied
 * once per run, before the first batch that names it is written.
 */
export class SchemaCarrier {
  private readonly carried = new Set<number>()

  constructor(
    private readonly source: SchemaRegistry,
    private readonly target: ImportingRegistry,
  ) {}

  async carry(ids: Iterable<number>): Promise<void> {
    for (const id of ids) await this.carryId(id)
  }

  private async carryId(id: number): Promise<void> {
    if (this.carried.has(id)) return
    let schema
    try {
      schema = await this.source.schemaById(id)
    } catch (error) {
      // Bytes that only look framed (a value starting with a 0 byte) name no schema: they copy as bytes.
      if (error instanceof UnknownSchemaError) {
        this.carried.add(id)
        return
      }
      throw error
    }
    for (const reference of schema.references) {
      const referenced = await this.source.subjectVersion(reference.subject, reference.version)
      await this.carryId(referenced.id)
    }
    await this.target.importSchema(schema, await this.source.subjectVersionsOf(id))
    this.carried.add(id)
  }
}

/** A sink that carries the schemas of its records (SchemaCarrier) before each flush writes them. */
export class SchemaCarryingSink implements RecordSink {
  private readonly ids = new Set<number>()

  constructor(
    private readonly inner: RecordSink,
    private readonly carrier: SchemaCarrier,
  ) {}

  get guarantee() {
    return this.inner.guarantee
  }

  get pending() {
    return this.inner.pending
  }

  add(batch: RecordBatch, index: number): void {
    const value = frameId(batch.valueAt(index))
    if (value !== undefined) this.ids.add(value)
    const key = frameId(batch.keyAt(index))
    if (key !== undefined) this.ids.add(key)
    this.inner.add(batch, index)
  }

  async flush(commit?: {source: Backend; group: string; offsets: GroupOffset[]}): Promise<void> {
    if (this.ids.size > 0) {
      await this.carrier.carry(this.ids)
      this.ids.clear()
    }
    await this.inner.flush(commit)
  }
}
