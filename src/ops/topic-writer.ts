import type {Backend, TopicSettings} from '../core/backend.js'
import {UnknownTopicError} from '../core/errors.js'
import {partitionForHash} from '../core/partitioner.js'
import {currentStreams} from '../io/streams.js'

/**
 * Which partition a record goes to, for everything that writes into a topic (produce, the pipe and
 * replay sinks): a partition the record names, else its key's (Kafka's murmur2, so a key lands on the
 * same partition locally and on Kafka), else one partition per batch, moving on after each, as Kafka's
 * sticky partitioner does.
 */
export class PartitionRouter {
  private sticky: number

  constructor(readonly partitions: number) {
    this.sticky = Math.floor(Math.random() * partitions)
  }

  /**
   * `keyHash` is murmur2 of the record's key, null for a record without one: callers hash the key once,
   * for the partition and to hand on to the batch (the local store's key index).
   */
  route(keyHash: number | null, named?: number): number {
    if (named !== undefined) return named
    return keyHash !== null ? partitionForHash(keyHash, this.partitions) : this.sticky
  }

  /** A batch was written: keyless records go to the next partition. */
  nextBatch(): void {
    this.sticky = (this.sticky + 1) % this.partitions
  }
}

/**
 * The partitions a topic has, or will have when the first write creates it with `createWith`: the one
 * "open or create" of produce and the sinks.
 */
export async function topicPartitions(backend: Backend, topic: string, createWith: TopicSettings): Promise<{partitions: number; exists: boolean}> {
  try {
    const partitions = backend.writePartitions ? await backend.writePartitions(topic) : (await backend.describeTopic(topic)).partitions
    return {partitions, exists: true}
  } catch (error) {
    if (!(error instanceof UnknownTopicError)) throw error
    return {partitions: createWith.partitions, exists: false}
  }
}

/** The note on stderr when a write created its topic. */
export function noteTopicCreated(topic: string, partitions: number, location: string): void {
  currentStreams().err.write(`spool: created topic '${topic}' (${partitions} partition${partitions === 1 ? '' : 's'}) in ${location}\n`)
}
