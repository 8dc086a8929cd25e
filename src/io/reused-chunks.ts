import {fstatSync, read} from 'node:fs'
import type {Readable} from 'node:stream'

/**
 * A regular file's bytes read into two buffers in turn, again and again, instead of a new buffer per read
 * (one is read into while the reader has the other): for a reader that copies every chunk out before it
 * asks for the next (produce of plain lines). A stream allocates each chunk anew, and V8 frees them only when external memory has grown by tens of megabytes:
 * reading a 100 MB file that way peaked at about 100 MiB of dead chunks.
 *
 * With a `pool`, each read takes a buffer from it instead (a new one when it is empty): for a reader that
 * keeps views of a chunk for a while (produce's records, until their append is done), and gives each
 * buffer back to the pool once nothing refers to it (`recycledChunk`).
 *
 * Returns undefined for anything but a stream on a regular file's descriptor that has read nothing yet (a
 * pipe or a terminal): those are read as streams. Without a pool each chunk is a view of one of the two
 * buffers, valid until the next one is asked for.
 */
export function reusedFileChunks(input: Readable, bytes: number, pool?: Buffer[]): AsyncIterable<Buffer> | undefined {
  // The descriptor a stream was given (src/cli/stdin.ts passes fd 0); the typings leave it out. Asked of
  // the descriptor, not by `instanceof fs.ReadStream`: that class is a lazy part of node:fs whose first
  // use loads fs/promises and readline with it (about 2.5 ms of every produce's start-up).
  const {fd, bytesRead} = input as Readable & {fd?: unknown; bytesRead?: unknown}
  if (typeof fd !== 'number' || bytesRead !== 0 || !isRegularFile(fd)) return undefined
  // Two buffers without a pool: one the reader holds, one being read into.
  const shared = pool ? undefined : [Buffer.allocUnsafeSlow(bytes), Buffer.allocUnsafeSlow(bytes)]
  /** A buffer to read into other than `current` (the one whose chunk goes to the reader now). */
  const free = (current?: Buffer) => (shared ? (current === shared[0] ? shared[1]! : shared[0]!) : (pool!.pop() ?? Buffer.allocUnsafeSlow(bytes)))
  // No position: from wherever the descriptor is, as the stream would (a file opened by the shell at an
  // offset stays at it).
  const readInto = (buffer: Buffer) =>
    new Promise<number>((resolve, reject) => read(fd, buffer, 0, bytes, null, (error, n) => (error ? reject(error) : resolve(n))))
  return {
    async *[Symbol.asyncIterator]() {
      // One read ahead: the next chunk is read on libuv's threads while the reader splits this one. Read
      // when asked, the main thread waited for each read (a thread hop and a 256 KiB copy, 400 times in a
      // 100 MB produce).
      let buffer = free()
      let reading = readInto(buffer)
      try {
        for (;;) {
          const got = await reading
          if (got === 0) {
            pool?.push(buffer)
            return
          }
          const chunk = buffer.subarray(0, got)
          // The reader has asked for this chunk, so it is done with the one before: that buffer is free.
          buffer = free(buffer)
          reading = readInto(buffer)
          yield chunk
        }
      } finally {
        // A reader that stopped early leaves a read in flight: its failure is nobody's to report.
        reading.catch(() => {})
      }
    },
  }
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile()
  } catch {
    return false
  }
}

/** The whole pooled buffer a chunk of reusedFileChunks(input, bytes, pool) was read into, to give back to the pool. */
export function recycledChunk(chunk: Buffer): Buffer {
  return Buffer.from(chunk.buffer, 0, chunk.buffer.byteLength)
}
