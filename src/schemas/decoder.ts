import {SpoolError} from '../core/errors.js'
import type {JsonBytes} from './json-bytes.js'
import {ArrayRecordBatch, type ByteRange, type FeedRecord, type RecordBatch} from '../core/record.js'
import {DecodedBatch, type SchemaTag} from './decoded.js'
import {compileSchema} from './codecs.js'
import {FRAME_BYTES, frameId, frameIdAt} from './framing.js'
import type {SchemaRegistry} from './registry.js'
import type {SchemaCodec} from './types.js'

/** A key or value that --decode could not read: the records before it were printed. */
export class DecodeError extends SpoolError {}

/**
 * Compiles each schema id once (fetching it and what it references from the registry) and turns framed
 * keys and values into JSON text. Fetching is asynchronous, decoding is not: a batch is decoded in one
 * pass that waits only where a schema id is new to it.
 */
export class RecordDecoder {
  private readonly codecs = new Map<number, Promise<SchemaCodec>>()
  /** Compiled codecs by id, with the tag their decoded fields carry (one object per schema, not per record). */
  private readonly ready = new Map<number, Ready>()
  private readonly range: ByteRange = {buf: Buffer.alloc(0), start: 0, end: 0}
  private textBytes = 64 * 1024

  constructor(private readonly registry: SchemaRegistry) {}

  /**
   * Decodes the first `count` records of the batch. A record that cannot be decoded ends the batch there:
   * the result holds the records before it and the error that says which one. Only a schema id not seen
   * before waits for the registry; every other record decodes without a pause.
   */
  async decode(batch: RecordBatch, count: number): Promise<{batch: DecodedBatch; error?: DecodeError}> {
    const decoded = new DecodedBatch(batch, count, this.textBytes)
    const {values, keys} = decoded
    const range = this.range
    for (let i = 0; i < count; i++) {
      try {
        // From the batch's own buffer where it has one: no Buffer view per record for a framed value.
        if (batch.valueBytes ? batch.valueBytes(i, range) : rangeOf(batch.valueAt(i), range)) {
          const id = frameIdAt(range.buf, range.start, range.end)
          const ready = id === undefined ? undefined : (this.ready.get(id) ?? (await this.load(id)))
          if (ready) {
            const start = values.text.pos
            ready.decode(range.buf, range.start + FRAME_BYTES, range.end, values.text)
            values.setDecoded(i, start, ready.tag)
          } else values.setRaw(i, range.buf.subarray(range.start, range.end))
        }
        const key = batch.keyAt(i)
        if (key !== null) {
          const id = frameIdAt(key, 0, key.length)
          const ready = id === undefined ? undefined : (this.ready.get(id) ?? (await this.load(id)))
          if (ready) {
            const start = keys.text.pos
            ready.decode(key, FRAME_BYTES, key.length, keys.text)
            keys.setDecoded(i, start, ready.tag)
          } else keys.setRaw(i, key)
        }
      } catch (error) {
        return {batch: decoded, error: this.failure(batch, i, error)}
      }
      decoded.count = i + 1
    }
    // The next batch's text starts in a buffer the size this one needed.
    this.textBytes = Math.max(this.textBytes, values.text.pos)
    return {batch: decoded}
  }

  /** One record with its framed key and value as JSON text; as it was where it cannot be decoded (top's peek). */
  async decodeRecord(record: FeedRecord): Promise<FeedRecord> {
    const {batch, error} = await this.decode(new ArrayRecordBatch(record.topic, record.partition, [record]), 1)
    return error ? record : {...record, key: batch.keyAt(0), value: batch.valueAt(0)}
  }

  private async load(id: number): Promise<Ready> {
    let codec = this.codecs.get(id)
    if (!codec) {
      codec = this.registry.schemaById(id).then((schema) => compileSchema(schema, (reference) => this.registry.subjectVersion(reference.subject, reference.version)))
      this.codecs.set(id, codec)
    }
    try {
      const compiled = await codec
      const ready: Ready = {
        tag: {id, type: compiled.type},
        decode: compiled.decodeInto
          ? compiled.decodeInto.bind(compiled)
          : (bytes, start, end, into) => into.writeString(compiled.decodeToJson(bytes, start, end)),
      }
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
      // The registry's reason usually names the id itself ("schema id 7 is not in ..."): said once.
      const said = reason.includes(`schema id ${error.id}`) ? reason : `schema id ${error.id}: ${reason}`
      return new DecodeError(`cannot decode ${where}: ${said}`, {cause: error.cause, hint: (error.cause as SpoolError).hint})
    }
    const ids = [batch.valueAt(index), batch.keyAt(index)].map(frameId).filter((id) => id !== undefined)
    const reason = error instanceof Error ? error.message : String(error)
    return new DecodeError(`cannot decode ${where} (schema id ${ids.join(', ')}): ${reason}`, {cause: error})
  }
}

interface Ready {
  tag: SchemaTag
  /** The codec's decodeInto, or its decodeToJson written out. */
  decode(bytes: Buffer, start: number, end: number, into: JsonBytes): void
}

/** Points `range` at `bytes`; false for null. */
function rangeOf(bytes: Buffer | null, range: ByteRange): boolean {
  if (bytes === null) return false
  range.buf = bytes
  range.start = 0
  range.end = bytes.length
  return true
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
