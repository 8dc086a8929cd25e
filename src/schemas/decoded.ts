import type {Header, RecordBatch} from '../core/record.js'
import {JsonBytes} from './json-bytes.js'
import type {SchemaType} from './types.js'

/** What a decoded key or value was framed with. */
export interface SchemaTag {
  id: number
  type: SchemaType
}

/** A batch whose framed keys and values read as one line of JSON each (see DecodedBatch). */
export interface DecodedFields {
  /** The schema of the value at index, when it was decoded; its valueAt is then JSON text. */
  valueSchemaAt(index: number): SchemaTag | undefined
  keySchemaAt(index: number): SchemaTag | undefined
  /** The decoded JSON text of the value, undefined where it was not framed. */
  valueJsonAt(index: number): string | undefined
  keyJsonAt(index: number): string | undefined
}

export function isDecoded(batch: RecordBatch): batch is RecordBatch & DecodedFields {
  return typeof (batch as Partial<DecodedFields>).valueSchemaAt === 'function'
}

const NEWLINE = 0x0a

/**
 * One side (keys or values) of a decoded batch: the decoded texts one after the other in one buffer,
 * each followed by a newline (so that a run of decoded values is already the default output), with
 * where each lies; bytes that were not framed as they were. The index arrays are made on first use: a
 * batch without keys costs its key side nothing per record.
 */
class DecodedSide {
  readonly text: JsonBytes
  /** Where each record's text starts in `text`, or -1 where it was not decoded (see `raw`). */
  private starts: Int32Array | undefined
  private ends: Int32Array | undefined
  private raw: (Buffer | null)[] | undefined
  private tags: (SchemaTag | undefined)[] | undefined

  constructor(
    private readonly capacity: number,
    bytes: number,
  ) {
    this.text = new JsonBytes(bytes)
  }

  /** Ends the text the codec wrote from `start` on and records it as record i's. */
  setDecoded(i: number, start: number, tag: SchemaTag): void {
    if (this.starts === undefined) {
      this.starts = new Int32Array(this.capacity).fill(-1)
      this.ends = new Int32Array(this.capacity)
      this.tags = new Array(this.capacity)
    }
    this.starts[i] = start
    this.ends![i] = this.text.pos
    this.tags![i] = tag
    this.text.writeByte(NEWLINE)
  }

  /** Record i's bytes as they are (records without a call are null). */
  setRaw(i: number, bytes: Buffer): void {
    ;(this.raw ??= new Array(this.capacity).fill(null))[i] = bytes
  }

  start(i: number): number {
    return this.starts === undefined ? -1 : this.starts[i]!
  }

  end(i: number): number {
    return this.ends![i]!
  }

  rawAt(i: number): Buffer | null {
    return this.raw === undefined ? null : this.raw[i]!
  }

  tagAt(i: number): SchemaTag | undefined {
    return this.tags?.[i]
  }

  at(i: number): Buffer | null {
    const start = this.start(i)
    return start < 0 ? this.rawAt(i) : this.text.buf.subarray(start, this.ends![i]!)
  }

  jsonAt(i: number): string | undefined {
    const start = this.start(i)
    return start < 0 ? undefined : this.text.buf.toString('utf8', start, this.ends![i]!)
  }
}

/**
 * A batch with framed keys and values replaced by their JSON text. Bytes without the framing stay as
 * they were. The batch owns its text buffers (a new pair per batch), so what valueAt returns stays valid.
 */
export class DecodedBatch implements RecordBatch, DecodedFields {
  readonly values: DecodedSide
  readonly keys: DecodedSide
  /** Records decoded so far (the decoder moves it on after each record's key and value). */
  count = 0

  /**
   * `capacity`: the most records it will hold; `bytes`: a guess at the size of the decoded values' text,
   * to start with a buffer that fits.
   */
  constructor(
    private readonly source: RecordBatch,
    capacity: number,
    bytes: number,
  ) {
    this.values = new DecodedSide(capacity, bytes)
    this.keys = new DecodedSide(capacity, 0)
  }

  get topic() {
    return this.source.topic
  }
  get partition() {
    return this.source.partition
  }
  offsetAt(i: number) {
    return this.source.offsetAt(i)
  }
  timestampAt(i: number) {
    return this.source.timestampAt(i)
  }
  headersAt(i: number): Header[] {
    return this.source.headersAt(i)
  }
  keyAt(i: number): Buffer | null {
    return this.keys.at(i)
  }
  valueAt(i: number): Buffer | null {
    return this.values.at(i)
  }
  valueLength(i: number): number {
    const values = this.values
    const start = values.start(i)
    return start >= 0 ? values.end(i) - start : (values.rawAt(i)?.length ?? -1)
  }
  copyValue(i: number, target: Buffer, position: number): number {
    const values = this.values
    const start = values.start(i)
    if (start >= 0) return values.text.buf.copy(target, position, start, values.end(i))
    const raw = values.rawAt(i)
    return raw === null ? -1 : raw.copy(target, position)
  }
  valueLines(start: number, end: number): Buffer | undefined {
    if (start >= end) return undefined
    const values = this.values
    // Decoded values lie one after the other, each with its newline; a value that was not is not there.
    for (let i = start; i < end; i++) if (values.start(i) < 0) return undefined
    return values.text.buf.subarray(values.start(start), values.end(end - 1) + 1)
  }
  valueSchemaAt(i: number) {
    return this.values.tagAt(i)
  }
  keySchemaAt(i: number) {
    return this.keys.tagAt(i)
  }
  /** The decoded JSON text of the value (undefined when it was not framed). */
  valueJsonAt(i: number): string | undefined {
    return this.values.jsonAt(i)
  }
  keyJsonAt(i: number): string | undefined {
    return this.keys.jsonAt(i)
  }
}
