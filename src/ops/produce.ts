import type {Readable} from 'node:stream'
import type {Backend, TopicSettings} from '../core/backend.js'
import {InputError, PartialAppendError, SpoolError, UnknownTopicError, UsageError} from '../core/errors.js'
import {type Header, PackedValues, PendingBatch, recordSize} from '../core/record.js'
import {murmur2} from '../core/partitioner.js'
import {validateTopicName} from '../core/topic-name.js'
import {formatBytes} from '../core/units.js'
import {EnvelopeError, decodeEnvelope} from '../io/json-envelope.js'
import {parseJson} from '../schemas/json-text.js'
import type {WriteSchema} from '../schemas/schema-file.js'
import {SchemaValueError} from '../schemas/types.js'
import {DelimiterSplitter} from '../io/splitter.js'
import {recycledChunk, reusedFileChunks} from '../io/reused-chunks.js'
import {type Clock, systemClock} from './replay.js'
import {IDLE_INPUT_MS, SLICE_MS, TokenBucket} from './token-bucket.js'
import {noteTopicCreated, PartitionRouter, topicPartitions} from './topic-writer.js'

/** Room in a packed batch over its byte limit: a batch is cut after the line that fills it (longer lines grow it). */
const PACKED_SLACK_BYTES = 64 * 1024
/**
 * Full batches of plain lines committed in one transaction while the input keeps them coming: 4 MiB. Each
 * transaction also rewrites a few small pages (below, seal), and a produce holds two transactions' worth
 * of batches (one being written, one being read), so more would cost memory for little.
 */
const PACKED_BATCHES_PER_COMMIT = 4
/** Reads of a file on stdin, as src/cli/stdin.ts reads it as a stream. */
const INPUT_CHUNK_BYTES = 256 * 1024

export interface ProduceOptions {
  topic: string
  input: Readable
  /** lines: each delimited record is a value (or key + value with keyDelimiter); json: one envelope per line. */
  format: 'lines' | 'json'
  delimiter: Buffer
  keyDelimiter?: Buffer
  /** Strip one trailing \r from each line (for CRLF files); off by default so bytes stay as they are. */
  stripCr?: boolean
  /** A key for every record that has none of its own. */
  key?: Buffer
  /** Headers added to every record, after its own. */
  headers?: Header[]
  partition?: number
  maxRecordBytes: number
  /** Used when the topic does not exist yet. */
  createWith: TopicSettings
  /** How long a record may wait for companions before its batch is committed. */
  lingerMs: number
  batchRecords: number
  batchBytes: number
  /** Aborting stops reading; what was read (but an unfinished last line) is still stored. */
  signal: AbortSignal
  /**
   * Keys and values are JSON documents that these schemas encode and frame (the lines themselves, the
   * part after --key-delimiter, or an envelope's "value" and "key").
   */
  schemas?: {value?: WriteSchema; key?: WriteSchema}
  /**
   * --rate/--burst: records are admitted through a token bucket and committed in small slices as they
   * are admitted, each slice stamped with the time it goes. Input is read only as fast as it is paced.
   */
  rate?: {perSecond: number; burst: number; clock?: Clock}
}

export interface ProduceResult {
  stored: number
  created: boolean
  /** The signal stopped the input before it ended. */
  interrupted: boolean
  /** With --rate: records read but not yet admitted by the pace when the input was interrupted, not written. */
  unpacedRecords: number
  /** Bytes after the last delimiter that were dropped because the input was interrupted. */
  discardedBytes: number
}

/**
 * stdin -> records -> committed batches. Records are grouped per partition and committed together in
 * one transaction per batch, when a batch fills or when the linger time passes, so a slow writer's lines
 * show up within milliseconds and a fast one's at full speed.
 */
export async function produce(backend: Backend, options: ProduceOptions): Promise<ProduceResult> {
  const {topic, maxRecordBytes} = options
  validateTopicName(topic)
  // A new topic gets the partitions asked for (or the default), never more: a record naming a partition
  // the topic lacks is bad input, not a reason to grow the topic. The first append creates it.
  const {partitions, exists} = await topicPartitions(backend, topic, options.createWith)
  const router = new PartitionRouter(partitions)
  const partitionCount = `${partitions} partition${partitions === 1 ? '' : 's'}`
  if (options.partition !== undefined && options.partition >= partitions) {
    if (!exists)
      throw new UsageError(
        `topic '${topic}' does not exist and would be created with ${partitionCount}; there is no partition ${options.partition}`,
        `-p pins one partition; --partitions N sets how many the new topic gets`,
      )
    throw new UsageError(`topic '${topic}' has ${partitionCount}; there is no partition ${options.partition}`, 'partitions are numbered from 0')
  }

  let stored = 0
  let created = false
  let pending = new Map<number, PendingBatch>()
  /** Full batches of the packed path, to be committed together with the next (seal below). */
  let sealed: PendingBatch[] = []
  let pendingCount = 0
  let pendingBytes = 0
  let flushChain: Promise<void> = Promise.resolve()
  let previousFlush: Promise<void> = Promise.resolve()
  let flushError: unknown
  let lingerTimer: NodeJS.Timeout | undefined

  /**
   * The records pending, as batches, taken out to be committed; with `open` false only the full batches of
   * the packed path, leaving the one being filled to fill up.
   */
  const takePending = (open = true): PendingBatch[] => {
    if (!open) {
      const full = sealed
      sealed = []
      for (const batch of full) {
        pendingCount -= batch.count
        pendingBytes -= batch.bytes
      }
      return full
    }
    const batches = [...sealed, ...pending.values()]
    if (pending.size > 0) router.nextBatch()
    sealed = []
    pending = new Map()
    packedBatch = undefined
    pendingCount = 0
    pendingBytes = 0
    return batches
  }
  // Only the first write may create the topic: one deleted while produce writes to it (topic delete)
  // ends the produce, where it was quietly created again with the default settings.
  let topicThere = exists
  const commit = async (batches: PendingBatch[]) => {
    try {
      const result = await backend.append(topic, batches, topicThere ? {} : {createWith: options.createWith})
      topicThere = true
      // The store has copied the bytes: the buffers take the next batch's.
      for (const batch of batches) if (batch.packed) packedPool.push(Object.assign(batch.packed, {used: 0}))
      stored += result.count
      if (result.created) {
        created = true
        noteTopicCreated(topic, partitions, backend.location)
      }
    } catch (error) {
      if (error instanceof PartialAppendError) stored += error.stored
      flushError ??= error instanceof UnknownTopicError && topicThere ? new SpoolError(`topic '${topic}' was deleted while produce wrote to it`) : error
    }
  }
  /**
   * Set while a commit of the packed path waits for the one being written: it takes what is pending when
   * its turn comes, so a linger flush that finds the writer busy does not cut a small transaction of its own.
   */
  let commitQueued = false
  /** The queued commit takes the batch being filled too (a linger flush, the end of the input). */
  let commitTakesOpen = false

  /** Commits what is pending; `open` false (the packed path's batches filled up): only the full batches. */
  const flush = (open = true): Promise<void> => {
    if (lingerTimer) clearTimeout(lingerTimer)
    lingerTimer = undefined
    if (pendingCount === 0) return flushChain
    if (packedPath) {
      commitTakesOpen ||= open
      if (commitQueued) return flushChain
      commitQueued = true
      flushChain = flushChain.then(() => {
        const batches = takePending(commitTakesOpen)
        commitQueued = false
        commitTakesOpen = false
        if (flushError || batches.length === 0) return
        return commit(batches)
      })
      return flushChain
    }
    const batches = takePending()
    const chunks = unflushedChunks
    unflushedChunks = []
    flushChain = flushChain.then(async () => {
      if (flushError) return
      await commit(batches)
      // Stored (or acknowledged): nothing refers to the chunks any more. After a failure they are not reused.
      if (!flushError && chunkPool) for (const chunk of chunks) chunkPool.push(recycledChunk(chunk))
    })
    return flushChain
  }

  const add = (value: Buffer | null, key: Buffer | null, headers: Header[] | null, timestamp: number, partition: number | undefined, record: number) => {
    const size = recordSize(key, value, headers)
    if (size > maxRecordBytes) throw oversized(record, size)
    if (partition !== undefined && partition >= partitions)
      throw new EnvelopeError(`"partition" is ${partition} but topic '${topic}' has ${partitionCount} (create it first with more: spool topic create ${topic} -p ${partition + 1})`)
    // Hashed once: for the partition and for the local store's key index.
    const hash = key !== null ? murmur2(key) : 0
    const target = router.route(key !== null ? hash : null, partition)
    let batch = pending.get(target)
    if (!batch) pending.set(target, (batch = new PendingBatch(target)))
    batch.add(value, key, headers, timestamp, size, hash)
    pendingCount++
    pendingBytes += size
  }

  const oversized = (record: number, size: number, atLeast = false) =>
    new InputFailure(
      record,
      `record ${record} is ${atLeast ? 'more than ' : ''}${size} bytes, over the limit of ${maxRecordBytes} (${formatBytes(maxRecordBytes)}); raise it with --max-record-size`,
    )

  const fixedHeaders = options.headers && options.headers.length > 0 ? options.headers : null
  const withFixedHeaders = (own: Header[]): Header[] | null =>
    fixedHeaders ? [...own, ...fixedHeaders] : own.length > 0 ? own : null
  const stripCr = options.stripCr ?? false
  const keyDelimiter = options.keyDelimiter
  let now = Date.now()

  const valueSchema = options.schemas?.value
  const keySchema = options.schemas?.key
  const schemaFields = options.schemas && {key: keySchema !== undefined, value: valueSchema !== undefined}
  /** A JSON document through its schema into framed bytes; a document that does not fit is bad input. */
  const encode = (schema: WriteSchema, document: unknown, record: number, what: string): Buffer => {
    try {
      return schema.codec.encode(document, schema.frame)
    } catch (error) {
      if (error instanceof SchemaValueError) throw new InputFailure(record, `line ${record}: ${what}${error.message}`)
      throw error
    }
  }
  /** Bytes [start, end) of `text`, a JSON document, through its schema into framed bytes. */
  const encodeText = (schema: WriteSchema, text: Buffer, start: number, end: number, record: number, what: string): Buffer => {
    const direct = schema.codec.encodeText?.(text, start, end, schema.frame)
    if (direct !== undefined) return direct
    let document: unknown
    try {
      document = parseJson(text.toString('utf8', start, end))
    } catch (error) {
      throw new InputFailure(record, `line ${record}: ${what}not valid JSON (${(error as Error).message})`)
    }
    return encode(schema, document, record, what)
  }

  // Plain lines, the common case, skip the record-by-record path: each line's bytes are copied into its
  // batch's packed buffer as it is split (no view, no size sum, no map lookup), and the buffers go back to
  // a pool once their batch is stored. Into Kafka too: a view per record kept the input chunks and an
  // object per record alive until the batch was acknowledged, which grew V8's young generation to its
  // largest (peak RSS, docs/BENCHMARKS.md).
  // Into Kafka the lines are laid out as a request's records as they are split, a request per batch, and
  // an append carries options.batchBytes of them (the requests it pipelines). Its layout keeps keys, so
  // keyed lines (-K, -k) take the packed path there too.
  const layout = backend.packedLayout
  const keyedLines = keyDelimiter !== undefined || options.key !== undefined
  const packedPath = options.format === 'lines' && (!keyedLines || layout?.keys === true) && !fixedHeaders && !options.schemas && !options.rate
  const packedBatchBytes = layout?.batchBytes !== undefined ? Math.min(layout.batchBytes, options.batchBytes) : options.batchBytes
  const packedBatchesPerCommit = layout?.batchBytes !== undefined ? Math.max(1, Math.floor(options.batchBytes / packedBatchBytes)) : PACKED_BATCHES_PER_COMMIT
  const packedPool: PackedValues[] = []
  const packedStorage = () =>
    packedPool.pop() ?? (layout ? layout.create(packedBatchBytes + PACKED_SLACK_BYTES, options.batchRecords) : new PackedValues(packedBatchBytes + PACKED_SLACK_BYTES, options.batchRecords))
  let packedBatch: PendingBatch | undefined
  const onPackedLine = (chunk: Buffer, start: number, end: number) => {
    if (stripCr && end > start && chunk[end - 1] === 0x0d) end--
    if (!packedBatch) {
      const target = router.route(null, options.partition)
      pending.set(target, (packedBatch = new PendingBatch(target)))
    }
    packedBatch.addPacked(chunk, start, end, now, packedStorage)
    pendingCount++
    pendingBytes += end - start
    if (packedBatch.count >= options.batchRecords || packedBatch.packed!.used >= packedBatchBytes) seal(packedBatch)
  }
  // Where the key delimiter next occurs in the chunk being split (-1: nowhere after `searchedFrom`): one
  // search serves every line up to it, so lines without a key do not each search the rest of the chunk,
  // and the search is in the chunk itself, with no view of the line (a third of a keyed produce's CPU).
  const keyNeedle = keyDelimiter?.length === 1 ? keyDelimiter[0]! : keyDelimiter
  let searchedChunk: Buffer | undefined
  let searchedFrom = 0
  let delimiterAt = -1
  /** A keyed line into a layout that keeps keys: its partition from its key, as the record-by-record path picks it. */
  const onPackedKeyedLine = (chunk: Buffer, start: number, end: number, record: number) => {
    if (stripCr && end > start && chunk[end - 1] === 0x0d) end--
    let key: Uint8Array | null = options.key ?? null
    let keyStart = 0
    let keyEnd = key?.length ?? 0
    let valueStart = start
    if (keyDelimiter) {
      if (chunk !== searchedChunk || start < searchedFrom || (delimiterAt !== -1 && delimiterAt < start)) {
        searchedChunk = chunk
        searchedFrom = start
        delimiterAt = chunk.indexOf(keyNeedle!, start)
      }
      if (delimiterAt !== -1 && delimiterAt + keyDelimiter.length <= end) {
        key = chunk
        keyStart = start
        keyEnd = delimiterAt
        valueStart = keyEnd + keyDelimiter.length
      }
    }
    const size = (key === null ? 0 : keyEnd - keyStart) + end - valueStart
    if (size > maxRecordBytes) throw oversized(record, size)
    const hash = key === null ? 0 : murmur2(key === chunk ? new Uint8Array(chunk.buffer, chunk.byteOffset + keyStart, keyEnd - keyStart) : key)
    const target = router.route(key === null ? null : hash, options.partition)
    let batch = pending.get(target)
    if (!batch) pending.set(target, (batch = new PendingBatch(target)))
    batch.addPackedKeyed(key, keyStart, keyEnd, chunk, valueStart, end, now, packedStorage)
    pendingCount++
    pendingBytes += size
    if (batch.count >= options.batchRecords || batch.packed!.used >= packedBatchBytes) seal(batch)
  }
  /**
   * A full packed batch waits for the next ones, to be committed with them in one transaction: each
   * commit also writes the pages holding the batch's row, its index entry, its key index row, its
   * partition and the file's header (64 KiB each), so one commit per 1 MiB batch wrote about a tenth more
   * than four batches per commit do (bytes written measured in docs/BENCHMARKS.md). Its records have found
   * their companions: the linger time starts again for the next batch.
   */
  const seal = (batch: PendingBatch) => {
    batch.packed?.settle()
    pending.delete(batch.partition)
    sealed.push(batch)
    packedBatch = undefined
    router.nextBatch()
    if (lingerTimer) clearTimeout(lingerTimer)
    lingerTimer = undefined
  }

  const onLine = (chunk: Buffer, start: number, end: number, record: number) => {
    if (stripCr && end > start && chunk[end - 1] === 0x0d) end--
    if (valueSchema && !keyDelimiter && options.format === 'lines') {
      // The line itself is the document: read from the input chunk, with no view of its own.
      add(encodeText(valueSchema, chunk, start, end, record, ''), options.key ?? null, fixedHeaders, now, options.partition, record)
      return
    }
    if (options.format === 'json') {
      // A blank line is no envelope (JSON Lines files often end with one); a BOM opens some files.
      if (record === 1 && end - start >= 3 && chunk[start] === 0xef && chunk[start + 1] === 0xbb && chunk[start + 2] === 0xbf) start += 3
      if (blank(chunk, start, end)) return
      const line = chunk.subarray(start, end)
      let envelope
      try {
        envelope = decodeEnvelope(line, schemaFields)
      } catch (error) {
        if (error instanceof EnvelopeError) throw new InputFailure(record, `line ${record}: ${error.message}`)
        throw error
      }
      const partition = options.partition ?? envelope.partition
      if (valueSchema && envelope.valueDocument !== null) envelope.value = encode(valueSchema, envelope.valueDocument, record, '')
      if (keySchema && envelope.keyDocument !== undefined && envelope.keyDocument !== null) envelope.key = encode(keySchema, envelope.keyDocument, record, 'key ')
      try {
        add(envelope.value, envelope.key ?? options.key ?? null, withFixedHeaders(envelope.headers), envelope.timestamp ?? now, partition, record)
      } catch (error) {
        if (error instanceof EnvelopeError) throw new InputFailure(record, `line ${record}: ${error.message}`)
        throw error
      }
      return
    }
    const line = chunk.subarray(start, end)
    let key: Buffer | null = options.key ?? null
    let value = line
    if (keyDelimiter) {
      const at = line.indexOf(keyDelimiter)
      if (at >= 0) {
        key = line.subarray(0, at)
        value = line.subarray(at + keyDelimiter.length)
        if (keySchema) key = encodeText(keySchema, key, 0, key.length, record, 'key ')
      }
    }
    if (valueSchema) value = encodeText(valueSchema, value, 0, value.length, record, '')
    add(value, key, fixedHeaders, now, options.partition, record)
  }

  // The packed path copies every line out of its chunk at once, so a file is read into one reused buffer.
  // The record-by-record path keeps views of a chunk until the append holding its records is done, so a
  // file is read into pooled buffers, each given back then (flush). Without that, every chunk outlived a
  // few scavenges and waited for a full collection: a keyed produce of 1M lines peaked at 180-270 MiB.
  const chunkPool: Buffer[] | undefined = packedPath || options.rate ? undefined : []
  const fileChunks = packedPath || chunkPool ? reusedFileChunks(options.input, INPUT_CHUNK_BYTES, chunkPool) : undefined
  /** Chunks of a pooled file read since the last flush: the records in them go with its append. */
  let unflushedChunks: Buffer[] = []
  // An envelope line may be longer than the record it carries (base64, field names), so JSON lines get room.
  const maxLineBytes = options.format === 'json' ? maxRecordBytes * 2 + 64 * 1024 : maxRecordBytes + (keyDelimiter?.length ?? 0)
  // With --rate, split records wait in a queue (views of the chunks they came in) to be admitted.
  const queued: Buffer[] = []
  const queuedNumbers: number[] = []
  let nextQueued = 0
  const splitter = new DelimiterSplitter(
    options.delimiter,
    maxLineBytes,
    options.rate
      ? (chunk, start, end, record) => {
          queued.push(chunk.subarray(start, end))
          queuedNumbers.push(record)
        }
      : packedPath
        ? keyedLines
          ? onPackedKeyedLine
          : onPackedLine
        : onLine,
    (record, bytes, atLeast) => {
      throw oversized(record, bytes, atLeast)
    },
    fileChunks !== undefined,
  )
  /** Adds up to `count` queued records to the pending batches, stopping where a batch is full; returns how many. */
  const admitQueued = (count: number): number => {
    const end = nextQueued + count
    const start = nextQueued
    while (nextQueued < end && pendingBytes < options.batchBytes) {
      const line = queued[nextQueued]!
      onLine(line, 0, line.length, queuedNumbers[nextQueued]!)
      nextQueued++
    }
    const admitted = nextQueued - start
    if (nextQueued === queued.length) {
      queued.length = 0
      queuedNumbers.length = 0
      nextQueued = 0
    }
    return admitted
  }
  const commitSlice = async () => {
    const written = flush()
    await previousFlush
    previousFlush = written
  }
  const rate = options.rate
  const clock = rate?.clock ?? systemClock
  const bucket = rate && new TokenBucket(rate.perSecond, rate.burst, clock)
  const slice = rate ? Math.max(1, Math.min(rate.burst, Math.round((rate.perSecond * SLICE_MS) / 1000))) : 0
  /** Admits the queue through the bucket, a slice at a time, committing each slice as it goes. */
  const pace = async () => {
    while (bucket && nextQueued < queued.length && !options.signal.aborted && !flushError) {
      const waiting = queued.length - nextQueued
      const due = bucket.readyAt(Math.min(waiting, slice))
      if (due > clock.now()) await clock.sleepUntil(due, options.signal)
      if (options.signal.aborted) break
      now = Date.now()
      // A slice of large records is committed in batches of at most batchBytes, as without --rate.
      for (let allowed = bucket.take(waiting); allowed > 0; ) {
        allowed -= admitQueued(allowed)
        await commitSlice()
      }
    }
    if (nextQueued === queued.length) drainedAt = clock.now()
  }
  // When the queue last ran dry: input that comes much later found the producer idle. Only paced
  // input asks (without --rate, reading the clock would load perf_hooks for nothing: about 2 ms).
  let drainedAt = rate ? clock.now() : 0
  /** Splits a chunk and paces it; a record the splitter refuses (too large) fails after the records before it. */
  const push = async (chunk: Buffer | undefined) => {
    if (bucket && clock.now() - drainedAt > IDLE_INPUT_MS) bucket.markIdle()
    let refused: unknown
    try {
      if (chunk) splitter.push(chunk)
      else splitter.end()
    } catch (error) {
      refused = error
    }
    await pace()
    if (refused) throw refused
  }

  let interrupted = false
  let discardedBytes = 0
  let unpacedRecords = 0
  try {
    for await (const chunk of readUntilAborted(options.input, fileChunks ?? options.input, options.signal)) {
      now = Date.now()
      if (rate) {
        await push(chunk)
        if (flushError || options.signal.aborted) break
        continue
      }
      splitter.push(chunk)
      // The next read may reuse the chunk's buffer (a file's): what the packed batch holds of it is copied now.
      packedBatch?.packed?.settle()
      if (chunkPool && fileChunks) unflushedChunks.push(chunk)
      if (packedPath ? sealed.length >= packedBatchesPerCommit : pendingCount >= options.batchRecords || pendingBytes >= options.batchBytes) {
        // Double buffering: read the next batch while this one is written (a Kafka round trip), but never
        // hold more than two batches (two transactions' worth on the packed path).
        const written = flush(false)
        await previousFlush
        previousFlush = written
      }
      // A file's bytes are all there: its records wait for the next read, never for a writer of the input,
      // and a timer that fired between two reads (a busy machine) only cut a batch short.
      else if (pendingCount > 0 && !lingerTimer && !fileChunks) lingerTimer = setTimeout(() => void flush(), options.lingerMs)
      if (flushError) break
    }
    if (options.signal.aborted) {
      interrupted = true
      discardedBytes = splitter.pendingBytes
      // Ctrl-C stops a paced produce where the pace has got to, as a kill would: the records read ahead
      // (up to a chunk of input, thousands of short lines) are not written in one burst, which a gentle
      // backfill asked never to happen. They are counted for the closing note.
      unpacedRecords = queued.length - nextQueued
      queued.length = 0
      queuedNumbers.length = 0
      nextQueued = 0
    } else if (!flushError) {
      now = Date.now()
      if (rate) await push(undefined)
      else splitter.end()
    }
  } catch (error) {
    if (!(error instanceof InputFailure)) {
      await flush()
      throw error
    }
    await flush()
    if (flushError) throw flushError
    throw new InputError(`${error.message}; stored the ${stored} record${stored === 1 ? '' : 's'} before it`, stored)
  }
  await flush()
  if (flushError) {
    if (flushError instanceof SpoolError && (stored > 0 || backend.kind === 'kafka')) {
      const what = backend.kind === 'kafka' ? 'acknowledged by Kafka' : 'stored'
      throw new SpoolError(`${flushError.message}; ${stored} record${stored === 1 ? ' was' : 's were'} ${what} before the failure`, {
        hint: flushError.hint,
        exitCode: flushError.exitCode,
      })
    }
    throw flushError
  }
  return {stored, created, interrupted, discardedBytes, unpacedRecords}
}


/** A bad input record: what came before it is stored, the rest of the input is not read. */
class InputFailure extends Error {
  constructor(readonly record: number, message: string) {
    super(message)
  }
}

/**
 * Iterates the input's chunks, ending early (and releasing stdin so the process can exit) when the
 * signal aborts.
 */
async function* readUntilAborted(input: Readable, chunks: AsyncIterable<Buffer | string>, signal: AbortSignal): AsyncGenerator<Buffer> {
  const iterator = chunks[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>
  try {
    while (!signal.aborted) {
      const next = await nextUnlessAborted(iterator, signal)
      if (next.done || signal.aborted) return
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value
    }
  } catch (error) {
    throw new SpoolError(`cannot read input: ${(error as Error).message}`)
  } finally {
    if (signal.aborted) input.destroy()
  }
}

/**
 * The iterator's next chunk, or the end when the signal aborts first. The listener lives for one read:
 * a Promise.race against one promise of the abort, kept for the whole input, left a reaction on it per
 * read that held that read's result, so every chunk of a piped input stayed in memory to the end
 * (1.1 GiB of peak RSS for 10M lines from a pipe).
 */
function nextUnlessAborted(iterator: AsyncIterator<Buffer | string>, signal: AbortSignal): Promise<IteratorResult<Buffer | string>> {
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve({done: true, value: undefined})
    signal.addEventListener('abort', onAbort, {once: true})
    iterator.next().then(
      (next) => {
        signal.removeEventListener('abort', onAbort)
        resolve(next)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/** Whether chunk[start, end) holds only spaces, tabs and carriage returns (or nothing). */
function blank(chunk: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = chunk[i]
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false
  }
  return true
}
