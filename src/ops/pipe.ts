import type {Assignment, Backend} from '../core/backend.js'
import {ArrayRecordBatch, recordAt} from '../core/record.js'
import type {RecordSink} from './sinks.js'
import type {Transform} from './transform.js'

export interface PipeOptions {
  sink: RecordSink
  signal: AbortSignal
  follow: boolean
  /** The source's consumer group: where a rerun continues. */
  group?: string
  transform?: Transform
  onBatch?: (read: number, written: number) => void
}

export interface PipeResult {
  read: number
  written: number
}

/**
 * Copies the source assignments into the sink one source batch at a time: read, transform, write, then
 * commit the batch's position to the group (in the same transaction where the sink can), so a copy
 * killed at any moment and run again neither loses nor, between topics of one store, repeats a record.
 */
export async function pipe(source: Backend, assignments: Assignment[], options: PipeOptions): Promise<PipeResult> {
  const {sink, group, transform} = options
  let read = 0
  let total = 0
  for await (const batch of source.read(assignments, {signal: options.signal, follow: options.follow})) {
    let written = batch.count
    if (transform) {
      const output = await transform.apply(Array.from({length: batch.count}, (_, i) => recordAt(batch, i)))
      const changed = new ArrayRecordBatch(batch.topic, batch.partition, output)
      for (let i = 0; i < changed.count; i++) sink.add(changed, i)
      written = output.length
    } else for (let i = 0; i < batch.count; i++) sink.add(batch, i)
    const last = batch.offsetAt(batch.count - 1)
    await sink.flush(group ? {source, group, offsets: [{topic: batch.topic, partition: batch.partition, offset: last + 1}]} : undefined)
    read += batch.count
    total += written
    options.onBatch?.(read, total)
  }
  return {read, written: total}
}
