import {describe, expect, it} from 'vitest'
import {murmur2, partitionForKey} from '../../src/core/partitioner.js'

// Kafka's own vectors: clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2
// (the hashes are Java's signed ints), plus the empty array.
const KAFKA_VECTORS: Array<[Uint8Array, number]> = [
  [Buffer.from('21'), -973932308],
  [Buffer.from('foobar'), -790332482],
  [Buffer.from('a-little-bit-long-string'), -985981536],
  [Buffer.from('a-little-bit-longer-string'), -1486304829],
  [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
  [new Uint8Array([0x61, 0x62, 0x63]), 479470107],
  [new Uint8Array(0), 275646681],
]

describe('murmur2', () => {
  it.each(KAFKA_VECTORS)('hashes %s as Kafka does', (bytes, expected) => {
    expect(murmur2(bytes)).toBe(expected)
  })

  it('treats bytes >= 0x80 as unsigned, as Java masks them', () => {
    // Every tail length (0-3) with high bytes: the hash must be a stable signed 32-bit integer.
    for (let length = 0; length < 8; length++) {
      const bytes = new Uint8Array(length).fill(0xff)
      const hash = murmur2(bytes)
      expect(Number.isInteger(hash)).toBe(true)
      expect(hash).toBeGreaterThanOrEqual(-(2 ** 31))
      expect(hash).toBeLessThan(2 ** 31)
      expect(murmur2(Buffer.from(bytes))).toBe(hash)
    }
  })
})

describe('partitionForKey', () => {
  it("is toPositive(murmur2(key)) % partitions, as Kafka's BuiltInPartitioner.partitionForKey", () => {
    // (-790332482 & 0x7fffffff) = 1357151166; % 50 = 16
    expect(partitionForKey(Buffer.from('foobar'), 50)).toBe(16)
    expect(partitionForKey(Buffer.from('21'), 7)).toBe((-973932308 & 0x7fffffff) % 7)
  })

  it('always lands in range and on the same partition for the same key', () => {
    for (let i = 0; i < 1000; i++) {
      const key = Buffer.from(`customer-${i}`)
      const p = partitionForKey(key, 12)
      expect(p).toBeGreaterThanOrEqual(0)
      expect(p).toBeLessThan(12)
      expect(partitionForKey(Buffer.from(`customer-${i}`), 12)).toBe(p)
    }
  })
})
