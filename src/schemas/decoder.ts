import {SpoolError} from '../core/errors.js'
import {ArrayRecordBatch, type FeedRecord, type RecordBatch} from '../core/record.js'
import {DecodedBatch, type SchemaTag} from './decoded.js'
import {compileSchema} from './codecs.js'
import {FRAME_BYTES, frameId} from './framing.js'
import type {SchemaRegistry} from './registry.js'
import type {SchemaCodec} from './types.js'

/** A key or value that --decode could not read: the records before it were printed. */
export class DecodeError extends SpoolError {}

/**
 * Compiles each schema id once (fetching it and what it references from the registry) and turns framed
 * keys and values into JSON text. Fetching is asynchronous, decoding is not: a batch is prepared (its
 * unknown ids fetched) and then decoded in one go.
 */
export class RecordDecoder {
  private readonly codecs = new Map<number, Promise<SchemaCodec>>()
  private readonly ready = new Map<number, SchemaCodec>()

  constructor(private readonly registry: SchemaRegistry) {}

  /**
   * Decodes the first `count` records of the batch. A record that cannot be decoded ends the batch there:
   * the result holds the records before it and the error that says which one.
   */
  async decode(batch: RecordBatch, count: number): Promise<{batch: DecodedBatch; error?: DecodeError}> {
    await this.prepare(batch, count)
    const decoded = new DecodedBatch(batch)
    for (let i = 0; i < count; i++) {
      try {
        decoded.push(this.field(batch.valueAt(i)), this.field(batch.keyAt(i)))
      } catch (error) {
        return {batch: decoded, error: this.failure(batch, i, error)}
      }
    }
    return {batch: decoded}
  }

  /** One record with its framed key and value as JSON text; as it was where it cannot be decoded (top's peek). */
  async decodeRecord(record: FeedRecord): Promise<FeedRecord> {
    const {batch, error} = await this.decode(new ArrayRecordBatch(record.topic, record.partition, [record]), 1)
    return error ? record : {...record, key: batch.keyAt(0), value: batch.valueAt(0)}
  }

  private field(bytes: Buffer | null): {text: string | Buffer | null; tag?: SchemaTag} {
    const id = frameId(bytes)
    if (id === undefined) return {text: bytes}
    const codec = this.ready.get(id)!
    return {text: codec.decodeToJson(bytes!.subarray(FRAME_BYTES)), tag: {id, type: codec.type}}
  }

  private async prepare(batch: RecordBatch, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      for (const bytes of [batch.valueAt(i), batch.keyAt(i)]) {
        const id = frameId(bytes)
        if (id === undefined || this.ready.has(id)) continue
        try {
          this.ready.set(id, await this.codec(id))
        } catch (error) {
          // Decoding stops at this record: let field() meet the missing codec there.
          this.failed = {id, error}
          return
        }
      }
    }
  }

  private failed: {id: number; error: unknown} | undefined

  private codec(id: number): Promise<SchemaCodec> {
    let codec = this.codecs.get(id)
    if (!codec) {
      codec = this.registry.schemaById(id).then((schema) => compileSchema(schema, (reference) => this.registry.subjectVersion(reference.subject, reference.version)))
      this.codecs.set(id, codec)
    }
    return codec
  }

  private failure(batch: RecordBatch, index: number, error: unknown): DecodeError {
    const where = `${batch.topic} partition ${batch.partition} offset ${batch.offsetAt(index)}`
    const ids = [batch.valueAt(index), batch.keyAt(index)].map(frameId).filter((id) => id !== undefined)
    const missing = this.failed && ids.includes(this.failed.id) ? this.failed : undefined
    if (missing) {
      const reason = missing.error instanceof Error ? missing.error.message : String(missing.error)
      return new DecodeError(`cannot decode ${where}: schema id ${missing.id}: ${reason}`, {cause: missing.error, hint: (missing.error as SpoolError).hint})
    }
    const reason = error instanceof Error ? error.message : String(error)
    return new DecodeError(`cannot decode ${where} (schema id ${ids.join(', ')}): ${reason}`, {cause: error})
  }
}

