import {describe, expect, it} from 'vitest'
import {DelimiterSplitter} from '../../src/io/splitter.js'

class Oversized extends Error {
  constructor(readonly record: number, readonly bytes: number) {
    super(`record ${record} is over the limit (${bytes} bytes so far)`)
  }
}

function split(chunks: Buffer[], delimiter: Buffer, maxBytes = 1 << 20): string[] {
  const records: string[] = []
  const splitter = new DelimiterSplitter(
    delimiter,
    maxBytes,
    (chunk, start, end) => records.push(chunk.toString('latin1', start, end)),
    (record, bytes) => {
      throw new Oversized(record, bytes)
    },
  )
  for (const chunk of chunks) splitter.push(chunk)
  splitter.end()
  return records
}

/** Every way to cut `input` into two chunks, plus the input fed one byte at a time. */
function cuts(input: Buffer): Buffer[][] {
  const out: Buffer[][] = [[input]]
  for (let at = 0; at <= input.length; at++) out.push([input.subarray(0, at), input.subarray(at)])
  out.push([...input].map((byte) => Buffer.from([byte])))
  return out
}

function expectSameEverywhere(input: Buffer, delimiter: Buffer, expected: string[]): void {
  for (const chunks of cuts(input)) expect(split(chunks, delimiter), `cut into ${chunks.map((c) => c.length).join('+')}`).toEqual(expected)
}

describe('DelimiterSplitter', () => {
  it('splits lines the same way wherever the chunks are cut', () => {
    expectSameEverywhere(Buffer.from('alpha\nbeta\n\ngamma\n'), Buffer.from('\n'), ['alpha', 'beta', '', 'gamma'])
  })

  it('makes a record of a final line without a delimiter', () => {
    expectSameEverywhere(Buffer.from('one\ntwo'), Buffer.from('\n'), ['one', 'two'])
    expect(split([Buffer.from('only')], Buffer.from('\n'))).toEqual(['only'])
  })

  it('gives nothing for empty input and one empty record for a lone delimiter', () => {
    expect(split([], Buffer.from('\n'))).toEqual([])
    expect(split([Buffer.alloc(0)], Buffer.from('\n'))).toEqual([])
    expect(split([Buffer.from('\n')], Buffer.from('\n'))).toEqual([''])
  })

  it('keeps \\r: CRLF handling is the caller\'s explicit choice', () => {
    expectSameEverywhere(Buffer.from('a\r\nb\r\n'), Buffer.from('\n'), ['a\r', 'b\r'])
  })

  it('splits on NUL and keeps newlines inside records', () => {
    expectSameEverywhere(Buffer.from('x\ny\0z\0'), Buffer.from([0]), ['x\ny', 'z'])
  })

  it('splits on a delimiter of several bytes, even when a chunk boundary falls inside it', () => {
    expectSameEverywhere(Buffer.from('a||b|||c||'), Buffer.from('||'), ['a', 'b', '|c'])
    expectSameEverywhere(Buffer.from('one<EOR>two<EOR><EOR>three'), Buffer.from('<EOR>'), ['one', 'two', '', 'three'])
  })

  it('is binary-safe: every byte value passes through', () => {
    const all = Buffer.from(Array.from({length: 256}, (_, i) => i).filter((b) => b !== 0x0a))
    const input = Buffer.concat([all, Buffer.from('\n'), all])
    for (const chunks of cuts(input).slice(0, 40)) expect(split(chunks, Buffer.from('\n'))).toEqual([all.toString('latin1'), all.toString('latin1')])
  })

  it('matches a reference split on random input cut at random places', () => {
    let seed = 7
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
    for (let round = 0; round < 200; round++) {
      const delimiter = round % 2 ? Buffer.from('\n') : Buffer.from('\r\n')
      const bytes = Buffer.from(Array.from({length: Math.floor(random() * 300)}, () => '\r\nab'.charCodeAt(Math.floor(random() * 4))))
      const reference = bytes.toString('latin1').split(delimiter.toString('latin1'))
      if (reference.at(-1) === '') reference.pop()
      const chunks: Buffer[] = []
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(random() * 20)
        chunks.push(bytes.subarray(at, at + size))
        at += size
      }
      expect(split(chunks, delimiter)).toEqual(reference)
    }
  })

  it('reports a record over the limit with its number, as soon as it grows past it', () => {
    expect(() => split([Buffer.from('ok\n'), Buffer.from('x'.repeat(11))], Buffer.from('\n'), 10)).toThrow(
      expect.objectContaining({record: 2, bytes: 11}),
    )
    expect(() => split([Buffer.from('ok\n' + 'y'.repeat(12) + '\n')], Buffer.from('\n'), 10)).toThrow(expect.objectContaining({record: 2}))
    expect(split([Buffer.from('x'.repeat(10) + '\n')], Buffer.from('\n'), 10)).toEqual(['x'.repeat(10)])
  })
})
