import {createReadStream, fstatSync} from 'node:fs'
import type {Readable} from 'node:stream'

/**
 * stdin as a stream. A regular file is read with large chunks through its own stream; anything else goes
 * through process.stdin, because a read stream on fd 0 of a pipe keeps the process alive after Ctrl-C
 * until the writer closes.
 */
export function openInput(): Readable {
  try {
    if (fstatSync(0).isFile()) return createReadStream('', {fd: 0, highWaterMark: 256 * 1024, autoClose: false})
  } catch {
    // No stdin at all: fall through to process.stdin, which reads as empty.
  }
  return process.stdin
}
