import {createReadStream, fstatSync} from 'node:fs'
import type {Readable} from 'node:stream'
import {UsageError} from '../core/errors.js'

/**
 * stdin as a stream. A regular file is read with large chunks through its own stream; anything else goes
 * through process.stdin, because a read stream on fd 0 of a pipe keeps the process alive after Ctrl-C
 * until the writer closes.
 */
export function openInput(): Readable {
  let stats
  try {
    stats = fstatSync(0)
  } catch {
    // No stdin at all: process.stdin reads as empty.
    return process.stdin
  }
  // Node reads a directory on stdin as empty input (`cat` says "Is a directory"): a produce would store
  // nothing and succeed. Asked before anything is opened or created.
  if (stats.isDirectory()) throw new UsageError('stdin is a directory, not the input', 'give produce a file, as in spool produce T < FILE, or a pipe')
  if (stats.isFile()) return createReadStream('', {fd: 0, highWaterMark: 256 * 1024, autoClose: false})
  return process.stdin
}
