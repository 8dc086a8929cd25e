import {type Admin, ConnectionPool, fetchV12, initProducerIdV4, kGetApi, produceV9, Writer} from '@platformatic/kafka'
import {type FetchedTopic, READ_COMMITTED, parseFetchResponse} from './fetch.js'

/**
 * The one module that calls into @platformatic/kafka's protocol internals (its connection pool, raw
 * request send, request builders, InitProducerId and the admin's API lookup), with named parameters
 * instead of the client's positional ones. spool sends Produce and Fetch itself (record-batch.ts, fetch.ts) because the client's
 * per-record codec was 2-9x slower than kcat; a client upgrade that changes these internals breaks here
 * and nowhere else (the version is pinned exactly in package.json).
 */
export interface Broker {
  host: string
  port: number
}

export interface FetchPartition {
  partition: number
  fetchOffset: number
  /** Most bytes of this partition in one response. */
  maxBytes: number
}

/**
 * Has the admin client connect to a bootstrap broker and ask its ApiVersions, which it keeps for every
 * later request, without a request of its own (the client's own lookup of an API by name does both).
 */
export function askApiVersions(admin: Admin): Promise<void> {
  return new Promise((resolve, reject) => admin[kGetApi]('Metadata', (error) => (error ? reject(error) : resolve())))
}

export class KafkaWire {
  private pool: ConnectionPool | undefined

  /**
   * `shared` is the admin client's pool: produce and InitProducerId go over the connections that the
   * metadata requests before them opened (one connection, its ApiVersions and SASL done once, rather than
   * a second one per broker). Fetch keeps a pool of its own: a fetch waits on the broker up to maxWaitMs,
   * and a broker answers a connection's requests in order, so a follow's fetch would hold up every admin
   * request (offsets, commits) queued behind it.
   */
  constructor(
    private readonly options: ConstructorParameters<typeof ConnectionPool>[1],
    private readonly shared: () => ConnectionPool,
  ) {}

  private get fetchConnections(): ConnectionPool {
    return (this.pool ??= new ConnectionPool('spool', this.options))
  }

  /** One request on a pooled connection to `broker`, resolved with the parsed response. */
  private async request<T>(request: {pool: ConnectionPool; broker: Broker; apiKey: number; apiVersion: number; payload: () => unknown; parse: unknown}): Promise<T> {
    const connection = await request.pool.get(request.broker)
    return new Promise((resolve, reject) => {
      // send(apiKey, apiVersion, payload builder, response parser, hasRequestHeaderTaggedFields,
      // hasResponseHeaderTaggedFields, callback)
      connection.send(request.apiKey, request.apiVersion, request.payload as never, request.parse as never, true, true, (error: Error | null, response: unknown) =>
        error ? reject(error) : resolve(response as T),
      )
    })
  }

  /**
   * Produce (v9) of an encoded request body (record-batch.ts), in parts written back to back (the
   * connection writes them with one writev: scripts/bundle.js); resolves when the broker has answered.
   */
  async produce(request: {broker: Broker; body: Buffer[]; expectResponse: boolean}): Promise<void> {
    const payload = Writer.create()
    for (const part of request.body) payload.append(part)
    if (!request.expectResponse) payload.context.noResponse = true
    await this.request({pool: this.shared(), broker: request.broker, apiKey: 0, apiVersion: 9, payload: () => payload, parse: produceV9.parseResponse})
  }

  /**
   * Fetch (v12, read committed, as kcat and the Java consumer read by default; no fetch session): records
   * come back as raw bytes for KafkaRecordBatch, up to the last stable offset, with the aborted
   * transactions among them named for it to leave out.
   */
  fetch(request: {broker: Broker; maxWaitMs: number; minBytes: number; maxBytes: number; topics: Map<string, FetchPartition[]>}): Promise<FetchedTopic[]> {
    const topics = [...request.topics].map(([topic, partitions]) => ({
      topicId: topic,
      partitions: partitions.map((p) => ({partition: p.partition, fetchOffset: BigInt(p.fetchOffset), partitionMaxBytes: p.maxBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1})),
    }))
    const isolationLevel = READ_COMMITTED
    const sessionId = 0
    const sessionEpoch = -1
    const forgottenTopics: never[] = []
    const rackId = ''
    const payload = () =>
      fetchV12.createRequest(request.maxWaitMs, request.minBytes, request.maxBytes, isolationLevel, sessionId, sessionEpoch, topics as never, forgottenTopics, rackId)
    return this.request({pool: this.fetchConnections, broker: request.broker, apiKey: 1, apiVersion: 12, payload, parse: parseFetchResponse})
  }

  /** A producer id and epoch for idempotent produce (InitProducerId v4, no transactions). */
  async initProducerId(request: {brokers: Broker[]; transactionTimeoutMs: number}): Promise<{id: bigint; epoch: number}> {
    const connection = await this.shared().getFirstAvailable(request.brokers)
    const transactionalId = null
    const producerId = -1n
    const producerEpoch = -1
    const response = await initProducerIdV4.api.async(connection, transactionalId, request.transactionTimeoutMs, producerId, producerEpoch)
    return {id: response.producerId, epoch: response.producerEpoch}
  }

  /** Closes the fetch pool; the shared one is its owner's to close. */
  async close(): Promise<void> {
    await this.pool?.close()
  }
}
