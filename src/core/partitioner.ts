/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), seed 0x9747b28c, so that a key lands on
 * the same partition number here as with Kafka's Java producer and librdkafka's murmur2_random.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  const m = 0x5bd1e995
  const r = 24
  let h = (0x9747b28c ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24)
    k = Math.imul(k, m)
    k ^= k >>> r
    k = Math.imul(k, m)
    h = Math.imul(h, m)
    h ^= k
  }
  const tail = length4 * 4
  const rest = length % 4
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8
  if (rest >= 1) {
    h ^= data[tail]! & 0xff
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** The partition Kafka's default partitioner picks for a non-null key: toPositive(murmur2(key)) % n. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return partitionForHash(murmur2(key), partitions)
}

/** partitionForKey from the key's murmur2, for a caller that keeps the hash (the local key index). */
export function partitionForHash(hash: number, partitions: number): number {
  return (hash & 0x7fffffff) % partitions
}
