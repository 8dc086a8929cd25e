import type {Header, RecordBatch} from '../core/record.js'
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

/**
 * A batch with framed keys and values replaced by their JSON text (valid until the next batch). Bytes
 * without the framing stay as they were.
 */
export class DecodedBatch implements RecordBatch, DecodedFields {
  private readonly values: (string | Buffer | null)[] = []
  private readonly keys: (string | Buffer | null)[] = []
  private readonly valueTags: (SchemaTag | undefined)[] = []
  private readonly keyTags: (SchemaTag | undefined)[] = []

  constructor(private readonly source: RecordBatch) {}

  push(value: string | Buffer | null, valueTag: SchemaTag | undefined, key: string | Buffer | null, keyTag: SchemaTag | undefined): void {
    this.values.push(value)
    this.valueTags.push(valueTag)
    this.keys.push(key)
    this.keyTags.push(keyTag)
  }

  get topic() {
    return this.source.topic
  }
  get partition() {
    return this.source.partition
  }
  get count() {
    return this.values.length
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
    const key = this.keys[i]!
    return typeof key === 'string' ? Buffer.from(key) : key
  }
  valueAt(i: number): Buffer | null {
    const value = this.values[i]!
    return typeof value === 'string' ? Buffer.from(value) : value
  }
  valueLength(i: number): number {
    const value = this.values[i]!
    return value === null ? -1 : typeof value === 'string' ? Buffer.byteLength(value) : value.length
  }
  copyValue(i: number, target: Buffer, position: number): number {
    const value = this.values[i]!
    if (value === null) return -1
    return typeof value === 'string' ? target.write(value, position) : value.copy(target, position)
  }
  valuesText(start: number, end: number, delimiter: string): string | undefined {
    let text = ''
    for (let i = start; i < end; i++) {
      const value = this.values[i]
      if (typeof value !== 'string') return undefined
      text += value + delimiter
    }
    return text
  }
  valueSchemaAt(i: number) {
    return this.valueTags[i]
  }
  keySchemaAt(i: number) {
    return this.keyTags[i]
  }
  /** The decoded JSON text of the value (undefined when it was not framed). */
  valueJsonAt(i: number): string | undefined {
    const value = this.values[i]
    return typeof value === 'string' ? value : undefined
  }
  keyJsonAt(i: number): string | undefined {
    const key = this.keys[i]
    return typeof key === 'string' ? key : undefined
  }
}
