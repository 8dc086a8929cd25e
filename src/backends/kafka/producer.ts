import {compressionsAlgorithms} from '@platformatic/kafka'
import {partitionKey} from '../../core/backend.js'
import {crc32c} from '../../core/checksum.js'
import {PartialAppendError, SpoolError, UnreachableError} from '../../core/errors.js'
import type {PendingBatch} from '../../core/record.js'
import {apiErrors, FAILOVER_PAUSE_MS, type KafkaClient} from './client.js'
import {encodeProduceRequest, planRecords, type RecordsPlan} from './record-batch.js'
import {COMPRESSIONS} from './settings.js'
import type {Broker} from './wire.js'

/** Bytes of records per produce request: under Kafka's default max.message.bytes with room for overhead. */
export const SEND_BYTES = 512 * 1024

/**
 * Produce requests in flight to a partition's leader with acks=all: Kafka's most for an idempotent
 * producer (the broker keeps the last five batches' sequence numbers per producer to find duplicates),
 * librdkafka's and the Java client's max.in.flight default.
 */
export const IN_FLIGHT = 5

export interface ProduceTarget {
  topic: string
  /** Leader broker of each partition, by partition number. */
  leaders: Array<Broker | undefined>
  /** The leaders again from fresh metadata, after a leader died or moved. */
  refresh?: () => Promise<Array<Broker | undefined>>
}

/** One produce request's worth of a batch: records [from, to) of one partition. */
interface Piece {
  batch: PendingBatch
  from: number
  to: number
  /** The records' sizes, measured once to cut the piece and kept to encode it (again, on a resend). */
  plan: RecordsPlan
  /** The idempotent producer's sequence number of its first record, fixed once so that a resend repeats it. */
  baseSequence?: number
  acknowledged: boolean
}

/**
 * spool's own produce: record batches written straight from a PendingBatch's columns (record-batch.ts),
 * sent with Produce v9. With acks=all it is idempotent: requests are pipelined (IN_FLIGHT of them), and the
 * broker stores a partition's batches only in sequence, so a refused batch is never followed by a stored
 * one and what is stored is always a prefix. With acks 0 or 1 requests go one at a time for the same reason.
 *
 * When a partition's leader dies or moves (the connection refused or cut, NOT_LEADER_OR_FOLLOWER...),
 * an idempotent produce sends every request not yet acknowledged again, to the new leader, with the same
 * producer id and sequence numbers: the new leader has the old one's producer state (it is replicated with
 * the log), so a request that was stored but whose answer was lost is acknowledged without being stored
 * twice. It keeps trying for up to the timeout from the first failure. Produce with acks 0 or 1 is not
 * sent again: without sequence numbers a resend could store a record twice.
 */
export class KafkaProducer {
  private producerId?: Promise<{id: bigint; epoch: number}>
  /** The next sequence number per topic-partition, for the idempotent producer. */
  private readonly sequences = new Map<string, number>()
  /** The requests of a send that failed for good without an answer to each: they may still be stored. */
  private unsettled?: {topic: string; producer: {id: bigint; epoch: number}; pieces: Piece[]; leaders: () => Promise<Array<Broker | undefined>>}

  constructor(private readonly client: KafkaClient) {}

  /** Sends the batches; resolves with how many records Kafka acknowledged (all of them, or it throws). */
  async send(target: ProduceTarget, batches: PendingBatch[], brokers: Broker[]): Promise<number> {
    const {topic} = target
    const acks = this.client.connection.acks ?? -1
    const idempotent = acks === -1
    // A failed send that nobody settled (a plain append tried again): its unanswered requests hold the
    // sequence numbers before these, which would be refused as out of order. Start over with a new id.
    if (this.unsettled) this.forgetProducer()
    const producer = idempotent ? await this.identity(brokers) : undefined
    // Pieces well under max.message.bytes (1 MiB by default), their sequence numbers given once.
    const pieces: Piece[] = []
    for (const batch of batches) {
      const sequenceKey = partitionKey(topic, batch.partition)
      let from = 0
      while (from < batch.count) {
        const plan = planRecords(batch, from, batch.count, SEND_BYTES)
        const to = plan.to
        let baseSequence: number | undefined
        if (producer) {
          baseSequence = this.sequences.get(sequenceKey) ?? 0
          this.sequences.set(sequenceKey, (baseSequence + (to - from)) % 0x80000000)
        }
        pieces.push({batch, from, to, plan, baseSequence, acknowledged: false})
        from = to
      }
    }
    let leaders = target.leaders
    let failingSince: number | undefined
    for (;;) {
      let failure = await this.sendPieces(topic, pieces.filter((p) => !p.acknowledged), leaders, producer, acks, producer ? IN_FLIGHT : 1)
      if (failure === undefined) return pieces.reduce((n, p) => n + p.to - p.from, 0)
      failingSince ??= Date.now()
      // Failover: the same producer id and sequence numbers to the new leader, so a resent request that
      // was stored already is acknowledged, not stored again.
      if (idempotent && target.refresh && Date.now() - failingSince < this.client.timeoutMs && (await this.client.failingOver(failure))) {
        await new Promise((r) => setTimeout(r, FAILOVER_PAUSE_MS))
        try {
          leaders = await target.refresh()
          continue
        } catch (error) {
          failure = error
        }
      }
      // The failover gave up (or does not apply): this append fails. A request without an answer (a
      // timeout, a connection cut) may still be stored by the broker later, even after this process has
      // read the partition back: settle() resends those requests, with their producer id and sequence
      // numbers, before anything else is sent or read back (docs/GUARANTEES.md, the forwarder).
      if (producer) {
        const current = leaders
        this.unsettled = {topic, producer, pieces: pieces.filter((p) => !p.acknowledged), leaders: target.refresh ?? (() => Promise.resolve(current))}
      }
      const acknowledged = pieces.reduce((n, p) => n + (p.acknowledged ? p.to - p.from : 0), 0)
      const translated = this.client.translate(failure, `producing to '${topic}'`, topic)
      // Part of this append may be stored: say so, since Kafka has no transaction here. The cause is the
      // translated error, so that an UnreachableError inside still tells -f to wait.
      if (acknowledged > 0 && translated instanceof SpoolError) throw new PartialAppendError(translated.message, acknowledged, {hint: translated.hint, cause: translated})
      throw translated
    }
  }

  /**
   * Resolves once no request of a failed send can be stored any more. Its unanswered requests are sent
   * again, one at a time, with the producer id and sequence numbers they were first sent with, until the
   * broker answers each: a request it had stored already (or stores late, from the dead connection) is
   * then refused as a duplicate of its resend, or its resend as a duplicate of it, so each is stored once
   * and its records are visible to a read-back after this resolves. The broker's sequence check is what
   * makes this hold, not timing. An exactly-once copy calls it before reading the destination back.
   *
   * A broker that answers the resend with an unknown producer or a sequence out of order no longer holds
   * this producer's state (expired, or lost with its log): it refuses the first requests for the same
   * reason, so nothing is left to settle, and the next send starts over with a new producer id.
   */
  async settle(): Promise<void> {
    const unsettled = this.unsettled
    if (!unsettled) return
    const {topic} = unsettled
    let failure: unknown
    try {
      failure = await this.sendPieces(topic, unsettled.pieces.filter((p) => !p.acknowledged), await unsettled.leaders(), unsettled.producer, -1, 1)
    } catch (error) {
      failure = error
    }
    if (failure === undefined) {
      this.unsettled = undefined
      return
    }
    const codes = apiErrors(failure)
    if (['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH'].some((c) => codes.has(c))) {
      this.forgetProducer()
      return
    }
    throw this.client.translate(failure, `producing to '${topic}'`, topic)
  }

  private forgetProducer(): void {
    this.unsettled = undefined
    this.producerId = undefined
    this.sequences.clear()
  }

  /**
   * Sends the pieces in order, `window` in flight, marking those acknowledged; stops sending at the first
   * failure, waits for what is in flight, and returns that failure.
   */
  private async sendPieces(topic: string, pieces: Piece[], leaders: Array<Broker | undefined>, producer: {id: bigint; epoch: number} | undefined, acks: number, window: number): Promise<unknown> {
    const {connection, timeoutMs} = this.client
    const codec = connection.compression && connection.compression !== 'none' ? connection.compression : undefined
    const compression = codec ? {bits: COMPRESSIONS.indexOf(codec), compress: (data: Buffer) => compressionsAlgorithms[codec].compressSync(data) as Buffer} : undefined
    const inFlight: {promise: Promise<void>; piece: Piece}[] = []
    let failure: unknown
    const settleOldest = async () => {
      const oldest = inFlight.shift()!
      try {
        await oldest.promise
        oldest.piece.acknowledged = true
      } catch (error) {
        // A resend of a request the broker had stored: Kafka answers NONE today, older brokers this code.
        if (apiErrors(error).has('DUPLICATE_SEQUENCE_NUMBER')) oldest.piece.acknowledged = true
        else failure ??= error
      }
    }
    for (const piece of pieces) {
      if (failure !== undefined) break
      const broker = leaders[piece.batch.partition]
      if (!broker) {
        // The code lets failingOver() wait for a leader; past the timeout, -f waits it out as an outage.
        failure = Object.assign(new UnreachableError(`partition ${piece.batch.partition} of '${topic}' has no reachable leader`), {apiId: 'LEADER_NOT_AVAILABLE'})
        break
      }
      let body
      try {
        const identity = producer ? {...producer, baseSequence: piece.baseSequence!} : undefined
        body = encodeProduceRequest({topic, acks, timeoutMs, partition: piece.batch.partition}, piece.batch, piece.from, piece.to, crc32c, compression, identity, piece.plan)
      } catch (error) {
        failure = error
        break
      }
      const promise = this.client.wire.produce({broker, body, expectResponse: acks !== 0})
      promise.catch(() => {})
      inFlight.push({promise, piece})
      if (inFlight.length >= window) await settleOldest()
    }
    while (inFlight.length > 0) await settleOldest()
    return failure
  }

  /** Asks for the producer id (acks=all) ahead of the first send, so that it is on its way while the input is read. */
  prepare(brokers: Broker[]): void {
    if ((this.client.connection.acks ?? -1) === -1) this.identity(brokers).catch(() => {})
  }

  /** A producer id for idempotent produce, asked once per backend; a failed ask is made again by the next send. */
  private identity(brokers: Broker[]): Promise<{id: bigint; epoch: number}> {
    if (this.producerId) return this.producerId
    const asked = (this.producerId = this.askIdentity(brokers))
    asked.catch(() => {
      if (this.producerId === asked) this.producerId = undefined
    })
    return asked
  }

  private async askIdentity(brokers: Broker[]): Promise<{id: bigint; epoch: number}> {
    // The first producer of a new cluster finds the transaction coordinator still loading: wait for it.
    const deadline = Date.now() + this.client.timeoutMs
    for (;;) {
      try {
        return await this.client.wire.initProducerId({brokers, transactionTimeoutMs: 60_000})
      } catch (error) {
        const codes = apiErrors(error)
        const retriable = ['COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'].some((c) => codes.has(c))
        if (!retriable || Date.now() > deadline) throw this.client.translate(error, 'asking for a producer id')
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }
}
