import {SpoolError} from '../core/errors.js'
import {ArrayRecordBatch, type ByteRange, type FeedRecord, type RecordBatch} from '../core/record.js'
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
  /** Compiled codecs by id, with the tag their decoded fields carry (one object per schema, not per record). */
  private readonly ready = new Map<number, {codec: SchemaCodec; tag: SchemaTag}>()
  private readonly range: ByteRange = {buf: Buffer.alloc(0), start: 0, end: 0}

  constructor(private readonly registry: SchemaRegistry) {}

  /**
   * Decodes the first `count` records of the batch. A record that cannot be decoded ends the batch there:
   * the result holds the records before it and the error that says which one. Only a schema id not seen
   * before waits for the registry; every other record decodes without a pause.
   */
  async decode(batch: RecordBatch, count: number): Promise<{batch: DecodedBatch; error?: DecodeError}> {
    const decoded = new DecodedBatch(batch)
    const range = this.range
    const direct = batch.valueBytes !== undefined
    for (let i = 0; i < count; i++) {
      // From the batch's own buffer where it has one: no Buffer view per record for a framed value.
      const value = direct ? (batch.valueBytes!(i, range) ? undefined : null) : batch.valueAt(i)
      const key = batch.keyAt(i)
      let valueText: string | Buffer | null = value ?? null
      let valueTag: SchemaTag | undefined
      let keyText: string | Buffer | null = key
      let keyTag: SchemaTag | undefined
      try {
        if (value === undefined) {
          const {buf, start, end} = range
          if (end - start >= FRAME_BYTES && buf[start] === 0) {
            const id = buf.readUInt32BE(start + 1)
            const ready = this.ready.get(id) ?? (await this.load(id))
            valueText = ready.codec.decodeToJson(buf, start + FRAME_BYTES, end)
            valueTag = ready.tag
          } else valueText = buf.subarray(start, end)
        }
        const valueId = value === undefined ? undefined : frameId(value)
        if (valueId !== undefined) {
          const ready = this.ready.get(valueId) ?? (await this.load(valueId))
          valueText = ready.codec.decodeToJson(value!, FRAME_BYTES)
          valueTag = ready.tag
        }
        const keyId = frameId(key)
        if (keyId !== undefined) {
          const ready = this.ready.get(keyId) ?? (await this.load(keyId))
          keyText = ready.codec.decodeToJson(key!, FRAME_BYTES)
          keyTag = ready.tag
        }
      } catch (error) {
        return {batch: decoded, error: this.failure(batch, i, error)}
      }
      decoded.push(valueText, valueTag, keyText, keyTag)
    }
    return {batch: decoded}
  }

  /** One record with its framed key and value as JSON text; as it was where it cannot be decoded (top's peek). */
  async decodeRecord(record: FeedRecord): Promise<FeedRecord> {
    const {batch, error} = await this.decode(new ArrayRecordBatch(record.topic, record.partition, [record]), 1)
    return error ? record : {...record, key: batch.keyAt(0), value: batch.valueAt(0)}
  }

  private async load(id: number): Promise<{codec: SchemaCodec; tag: SchemaTag}> {
    let codec = this.codecs.get(id)
    if (!codec) {
      codec = this.registry.schemaById(id).then((schema) => compileSchema(schema, (reference) => this.registry.subjectVersion(reference.subject, reference.version)))
      this.codecs.set(id, codec)
    }
    try {
      const ready = {codec: await codec, tag: {id, type: (await codec).type}}
      this.ready.set(id, ready)
      return ready
    } catch (error) {
      throw new MissingSchema(id, error)
    }
  }

  private failure(batch: RecordBatch, index: number, error: unknown): DecodeError {
    const where = `${batch.topic} partition ${batch.partition} offset ${batch.offsetAt(index)}`
    if (error instanceof MissingSchema) {
      const reason = error.cause instanceof Error ? error.cause.message : String(error.cause)
      return new DecodeError(`cannot decode ${where}: schema id ${error.id}: ${reason}`, {cause: error.cause, hint: (error.cause as SpoolError).hint})
    }
    const ids = [batch.valueAt(index), batch.keyAt(index)].map(frameId).filter((id) => id !== undefined)
    const reason = error instanceof Error ? error.message : String(error)
    return new DecodeError(`cannot decode ${where} (schema id ${ids.join(', ')}): ${reason}`, {cause: error})
  }
}

/** A schema id the registry could not give (or that does not compile). */
class MissingSchema extends Error {
  constructor(
    readonly id: number,
    override readonly cause: unknown,
  ) {
    super(`schema id ${id}`)
  }
}
