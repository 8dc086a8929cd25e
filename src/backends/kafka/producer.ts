import {compressionsAlgorithms} from '@platformatic/kafka'
import {partitionKey} from '../../core/backend.js'
import {crc32c} from '../../core/checksum.js'
import {PartialAppendError, SpoolError, UnreachableError} from '../../core/errors.js'
import type {PendingBatch} from '../../core/record.js'
import {apiErrors, type KafkaClient} from './client.js'
import {encodeRecordBatch, produceRequestBody, recordBodySize} from './record-batch.js'
import {COMPRESSIONS} from './settings.js'
import type {Broker} from './wire.js'

/** Bytes of records per produce request: under Kafka's default max.message.bytes with room for overhead. */
const SEND_BYTES = 512 * 1024

export interface ProduceTarget {
  topic: string
  /** Leader broker of each partition, by partition number. */
  leaders: Array<Broker | undefined>
}

/**
 * spool's own produce: record batches written straight from a PendingBatch's columns (record-batch.ts),
 * sent with Produce v9. With acks=all it is idempotent: requests are pipelined (4 in flight), and the
 * broker stores a partition's batches only in sequence, so a refused batch is never followed by a stored
 * one and what is stored is always a prefix. With acks 0 or 1 requests go one at a time for the same reason.
 */
export class KafkaProducer {
  private producerId?: {id: bigint; epoch: number}
  /** The next sequence number per topic-partition, for the idempotent producer. */
  private readonly sequences = new Map<string, number>()

  constructor(private readonly client: KafkaClient) {}

  /** Sends the batches; resolves with how many records Kafka acknowledged (all of them, or it throws). */
  async send(target: ProduceTarget, batches: PendingBatch[], brokers: Broker[]): Promise<number> {
    const {topic} = target
    const {connection, timeoutMs} = this.client
    const acks = connection.acks ?? -1
    const codec = connection.compression && connection.compression !== 'none' ? connection.compression : undefined
    const compression = codec ? {bits: COMPRESSIONS.indexOf(codec), compress: (data: Buffer) => compressionsAlgorithms[codec].compressSync(data) as Buffer} : undefined
    const idempotent = acks === -1
    const producer = idempotent ? await this.identity(brokers) : undefined
    const window = idempotent ? 4 : 1
    const inFlight: {promise: Promise<void>; count: number}[] = []
    let acknowledged = 0
    let failure: unknown
    const settleOldest = async () => {
      const oldest = inFlight.shift()!
      try {
        await oldest.promise
        if (failure === undefined) acknowledged += oldest.count
      } catch (error) {
        failure ??= error
      }
    }
    try {
      for (const batch of batches) {
        const broker = target.leaders[batch.partition]
        if (!broker) throw new UnreachableError(`partition ${batch.partition} of '${topic}' has no reachable leader`)
        const sequenceKey = partitionKey(topic, batch.partition)
        // Pieces well under max.message.bytes (1 MiB by default).
        let from = 0
        while (from < batch.count && failure === undefined) {
          let to = from
          let bytes = 0
          while (to < batch.count && (to === from || bytes < SEND_BYTES)) bytes += recordBodySize(batch, to, batch.timestamps[from]!, to++ - from) + 5
          let identity
          if (producer) {
            const baseSequence = this.sequences.get(sequenceKey) ?? 0
            this.sequences.set(sequenceKey, (baseSequence + (to - from)) % 0x80000000)
            identity = {...producer, baseSequence}
          }
          const records = encodeRecordBatch(batch, from, to, crc32c, compression, identity)
          const body = produceRequestBody(topic, acks, timeoutMs, [{partition: batch.partition, records}])
          const promise = this.client.wire.produce({broker, body, expectResponse: acks !== 0})
          promise.catch(() => {})
          inFlight.push({promise, count: to - from})
          if (inFlight.length >= window) await settleOldest()
          from = to
        }
      }
      while (inFlight.length > 0) await settleOldest()
      if (failure !== undefined) throw failure
    } catch (error) {
      while (inFlight.length > 0) await settleOldest()
      // The broker's sequence for this producer id now stands wherever the failure left it: the next
      // send starts over with a new id rather than be refused as out of order.
      this.producerId = undefined
      this.sequences.clear()
      const translated = this.client.translate(error, `producing to '${topic}'`, topic)
      // Part of this append may be stored: say so, since Kafka has no transaction here.
      if (acknowledged > 0 && translated instanceof SpoolError) throw new PartialAppendError(translated.message, acknowledged, {hint: translated.hint, cause: translated})
      throw translated
    }
    return acknowledged
  }

  /** A producer id for idempotent produce, asked once per backend. */
  private async identity(brokers: Broker[]): Promise<{id: bigint; epoch: number}> {
    if (this.producerId) return this.producerId
    // The first producer of a new cluster finds the transaction coordinator still loading: wait for it.
    const deadline = Date.now() + this.client.timeoutMs
    for (;;) {
      try {
        this.producerId = await this.client.wire.initProducerId({brokers, transactionTimeoutMs: 60_000})
        return this.producerId
      } catch (error) {
        const codes = apiErrors(error)
        const retriable = ['COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'].some((c) => codes.has(c))
        if (!retriable || Date.now() > deadline) throw this.client.translate(error, 'asking for a producer id')
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }
}
