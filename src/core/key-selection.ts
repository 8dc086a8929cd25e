import {murmur2} from './partitioner.js'
import type {ByteRange, Header, RecordBatch} from './record.js'

/**
 * The 32-bit hash the local store's key index keeps for a key: Kafka's murmur2 (the partitioner's hash),
 * unsigned. Cheap to compute per record, and the same function on both sides of the index.
 */
export function keyHash(key: Uint8Array): number {
  return murmur2(key) >>> 0
}

/**
 * The keys a read asks for (--key, repeatable): the exact bytes to compare, and their hashes for an index.
 * Null keys are never selected.
 */
export class KeySelection {
  readonly hashes: number[]

  readonly keys: readonly Buffer[]

  constructor(keys: readonly Buffer[]) {
    // Each key once: a key given twice must not pick its records twice.
    this.keys = keys.filter((key, i) => keys.findIndex((other) => other.equals(key)) === i)
    this.hashes = [...new Set(keys.map(keyHash))].sort((a, b) => a - b)
  }

  matches(key: Buffer | null): boolean {
    if (key === null) return false
    for (const wanted of this.keys) if (wanted.equals(key)) return true
    return false
  }

  /** The records of `batch` whose key is selected, as a batch of their own; undefined when there are none. */
  select(batch: RecordBatch): RecordBatch | undefined {
    let picked: number[] = []
    if (batch.indexesWithKey) picked = batch.indexesWithKey(this.keys)
    else if (batch.keyEquals) {
      const keys = this.keys
      for (let i = 0; i < batch.count; i++)
        for (let k = 0; k < keys.length; k++)
          if (batch.keyEquals(i, keys[k]!)) {
            picked.push(i)
            break
          }
    } else for (let i = 0; i < batch.count; i++) if (this.matches(batch.keyAt(i))) picked.push(i)
    if (picked.length === 0) return undefined
    return picked.length === batch.count ? batch : new SelectedRecords(batch, picked)
  }
}

/** Some records of a batch, by index, seen as a batch; offsets keep their gaps. */
export class SelectedRecords implements RecordBatch {
  readonly valueBytes?: (index: number, into: ByteRange) => boolean

  constructor(
    private readonly batch: RecordBatch,
    private readonly picked: readonly number[],
  ) {
    // Only where the underlying batch has it: writers take its absence as "use valueAt".
    if (batch.valueBytes) this.valueBytes = (index, into) => batch.valueBytes!(picked[index]!, into)
  }

  release(): void {
    this.batch.release?.()
  }
  get topic(): string {
    return this.batch.topic
  }
  get partition(): number {
    return this.batch.partition
  }
  get count(): number {
    return this.picked.length
  }
  offsetAt(index: number): number {
    return this.batch.offsetAt(this.picked[index]!)
  }
  timestampAt(index: number): number {
    return this.batch.timestampAt(this.picked[index]!)
  }
  keyAt(index: number): Buffer | null {
    return this.batch.keyAt(this.picked[index]!)
  }
  valueAt(index: number): Buffer | null {
    return this.batch.valueAt(this.picked[index]!)
  }
  headersAt(index: number): Header[] {
    return this.batch.headersAt(this.picked[index]!)
  }
  copyValue(index: number, target: Buffer, position: number): number {
    return this.batch.copyValue(this.picked[index]!, target, position)
  }
  valueLength(index: number): number {
    return this.batch.valueLength(this.picked[index]!)
  }
}
