import type {Writable} from 'node:stream'
import {OutputError} from '../core/errors.js'

const CHUNK_BYTES = 64 * 1024
const MAX_SPARE = 64

/** The reader on the other end of stdout went away (EPIPE): not a failure, just the end. */
export class OutputClosedError extends Error {
  constructor() {
    super('output closed')
  }
}

/** The error listeners of BufferedOutputs: a stream one of them watches has its errors handled. */
const watchers = new WeakSet<object>()

/** Whether `listener` is a BufferedOutput's (src/cli/stdout-errors.ts leaves stdout's errors to it). */
export function isOutputWatcher(listener: unknown): boolean {
  return typeof listener === 'function' && watchers.has(listener)
}

/**
 * Collects output into 64 KiB chunks and hands them to the stream with back-pressure: one write() per
 * chunk instead of per record (about 4x faster into a pipe), and never more than a batch in memory.
 * A closed pipe turns into OutputClosedError at the next flush, with no stack trace and no crash.
 */
export class BufferedOutput {
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES)
  private position = 0
  private readonly ready: Buffer[] = []
  /** Chunks the stream has finished with, reused instead of allocating (and collecting) new ones. */
  private readonly spare: Buffer[] = []
  private readonly written: Buffer[] = []
  /** Bytes handed over by writeShared: the caller's, never filled again as a chunk. */
  private readonly shared = new WeakSet<Buffer>()
  /** Writes of shared bytes whose callback has not come yet. */
  private sharedInFlight = 0
  private readonly sharedWritten = () => {
    this.sharedInFlight--
  }
  private closed = false
  private failure: OutputError | undefined
  private readonly ended = new AbortController()
  private readonly onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') this.closed = true
    else this.failure ??= new OutputError(error)
    this.ended.abort()
  }

  /**
   * Aborted once the stream has failed or closed. A read that waits for new records (a follow) takes it
   * into its signal: it learns of a failed write now, not at the next record (`tail T > /dev/full` wrote
   * its first records, failed, and went on waiting).
   */
  get broken(): AbortSignal {
    return this.ended.signal
  }

  constructor(private readonly stream: Writable) {
    watchers.add(this.onError)
    stream.on('error', this.onError)
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Makes room for `bytes` in the current chunk and returns it with the position to write at. */
  reserve(bytes: number): Buffer {
    if (this.position + bytes > this.chunk.length) {
      this.rotate()
      if (bytes > this.chunk.length) this.chunk = Buffer.allocUnsafe(bytes)
    }
    return this.chunk
  }

  get offset(): number {
    return this.position
  }

  advance(bytes: number): void {
    this.position += bytes
  }

  writeByte(byte: number): void {
    this.reserve(1)[this.position++] = byte
  }

  writeBytes(bytes: Uint8Array): void {
    const target = this.reserve(bytes.length)
    target.set(bytes, this.position)
    this.position += bytes.length
  }

  writeString(text: string): void {
    const length = Buffer.byteLength(text)
    const target = this.reserve(length)
    this.position += target.write(text, this.position, length, 'utf8')
  }

  /**
   * Hands `bytes` to the stream as they are, after what is buffered before them, instead of copying them
   * into chunks: for a batch's values that are the output already (writeSeparated in record-writers.ts).
   * The caller keeps them unchanged while `sharesUnwrittenBytes` is true.
   */
  writeShared(bytes: Buffer): void {
    this.rotate()
    this.sharedInFlight++
    if (this.ready.length === 0 && this.stream.writableLength === 0 && !this.closed && !this.failure && !this.stream.destroyed) this.stream.write(bytes, this.sharedWritten)
    else {
      this.shared.add(bytes)
      this.ready.push(bytes)
    }
  }

  /**
   * Whether bytes given to writeShared may not all be written yet. A write's callback can come a tick
   * after the write itself (a pipe or file that took it at once): nothing held here or in the stream
   * means all is written.
   */
  get sharesUnwrittenBytes(): boolean {
    return this.sharedInFlight > 0 && !(this.ready.length === 0 && this.stream.writableLength === 0)
  }

  private rotate(): void {
    if (this.position > 0) {
      const full = this.chunk.subarray(0, this.position)
      if (this.ready.length === 0 && this.stream.writableLength === 0 && !this.closed && !this.failure && !this.stream.destroyed) this.handOver(full)
      else this.ready.push(full)
    } else if (this.chunk.length === CHUNK_BYTES) this.spare.push(this.chunk)
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES)
    this.position = 0
  }

  /**
   * A full chunk goes to the stream as soon as it is full when the stream has nothing queued, instead of
   * waiting with the rest of the batch for flush(): into a pipe, the reader (`wc -l`, another process on
   * another core) empties the pipe's 64 KiB while the next chunk is filled, so each chunk is written at
   * once, where a batch's worth of chunks written together waited for the reader between each two
   * (the pipe holds one chunk). When the stream has something queued, chunks wait for flush() as before,
   * so no more is held than before.
   */
  private handOver(chunk: Buffer): void {
    this.stream.write(chunk)
    // Written through already (a pipe with room, a file): the chunk can be filled again at once.
    if (this.stream.writableLength === 0 && chunk.buffer.byteLength === CHUNK_BYTES) this.spare.push(Buffer.from(chunk.buffer, chunk.byteOffset, CHUNK_BYTES))
    else if (this.written.length < MAX_SPARE) this.written.push(chunk)
  }

  /** Hands everything buffered to the stream and waits while the stream asks us to. */
  async flush(): Promise<void> {
    this.rotate()
    const stream = this.stream
    for (const chunk of this.ready.splice(0)) {
      this.check()
      const shared = this.shared.has(chunk)
      if (this.written.length < MAX_SPARE && !shared) this.written.push(chunk)
      if (!stream.write(chunk, shared ? this.sharedWritten : undefined)) await this.waitForDrain()
    }
    this.check()
    // A chunk handed over as it filled (handOver) may still be queued: wait for it as for the others, so
    // that after a flush the stream holds nothing (a read that fails next exits with its output written).
    if (stream.writableNeedDrain) {
      await this.waitForDrain()
      this.check()
    }
    // Once nothing is queued in the stream, every chunk handed to it has been written out.
    if (stream.writableLength === 0) {
      for (const chunk of this.written.splice(0))
        if (chunk.buffer.byteLength === CHUNK_BYTES && this.spare.length < MAX_SPARE) this.spare.push(Buffer.from(chunk.buffer, chunk.byteOffset, CHUNK_BYTES))
    }
  }

  private check(): void {
    if (this.failure) throw this.failure
    if (this.closed || this.stream.destroyed) throw new OutputClosedError()
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off('drain', done)
        this.stream.off('error', done)
        this.stream.off('close', done)
        resolve()
      }
      this.stream.on('drain', done)
      this.stream.on('error', done)
      this.stream.on('close', done)
    })
  }

  /**
   * Flushes and waits until the stream has handed the last byte to the operating system: the point after
   * which a consumer group may commit what was written.
   */
  async settle(): Promise<void> {
    await this.flush()
    await new Promise<void>((resolve) => {
      if (this.closed || this.stream.destroyed) return resolve()
      this.stream.write('', () => resolve())
    })
    this.check()
  }

  async end(): Promise<void> {
    await this.settle()
  }
}
