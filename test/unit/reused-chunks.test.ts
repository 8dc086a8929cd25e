import {randomBytes} from 'node:crypto'
import {closeSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {recycledChunk, reusedFileChunks} from '../../src/io/reused-chunks.js'

// reusedFileChunks reads the descriptor a stream was given; these tests hand it one directly.
const fileInput = (fd: number) => ({fd, bytesRead: 0}) as unknown as Readable

describe('reusedFileChunks (a regular file read one chunk ahead)', () => {
  let dir: string
  let path: string
  let fd: number
  // Not a multiple of the chunk size, so the last chunk is short.
  const content = randomBytes(10 * 4096 + 123)

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-chunks-'))
    path = join(dir, 'input')
    writeFileSync(path, content)
    fd = openSync(path, 'r')
  })
  afterEach(() => {
    try {
      closeSync(fd)
    } catch {
      // closed by the test
    }
    rmSync(dir, {recursive: true, force: true})
  })

  it('gives the file\'s bytes in order, and a chunk held stays intact while the next one is read', async () => {
    const chunks = reusedFileChunks(fileInput(fd), 4096)!
    let at = 0
    for await (const chunk of chunks) {
      // The read ahead has time to finish: a chunk it overwrote would no longer match the file.
      await sleep(5)
      expect(chunk.equals(content.subarray(at, at + chunk.length))).toBe(true)
      at += chunk.length
    }
    expect(at).toBe(content.length)
  })

  it('with a pool: every chunk held at once stays intact, and the buffers come from the pool', async () => {
    const pool = [Buffer.alloc(4096), Buffer.alloc(4096)]
    const given = new Set(pool.map((b) => b.buffer))
    const held: Buffer[] = []
    for await (const chunk of reusedFileChunks(fileInput(fd), 4096, pool)!) held.push(chunk)
    expect(Buffer.concat(held).equals(content)).toBe(true)
    expect(new Set(held.map((c) => c.buffer)).size).toBe(held.length)
    for (const b of given) expect(held.some((c) => c.buffer === b)).toBe(true)
    for (const chunk of held) expect(recycledChunk(chunk).length).toBe(4096)
  })

  it('a reader that stops early leaves no failure behind, even when the descriptor closes under the read in flight', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      for await (const chunk of reusedFileChunks(fileInput(fd), 4096)!) {
        expect(chunk.length).toBe(4096)
        break
      }
      closeSync(fd)
      await sleep(20)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('is not used for anything but a regular file that has read nothing', () => {
    expect(reusedFileChunks({fd, bytesRead: 1} as unknown as Readable, 4096)).toBeUndefined()
    expect(reusedFileChunks({} as unknown as Readable, 4096)).toBeUndefined()
  })
})
