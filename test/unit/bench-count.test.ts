import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {LocalBackend} from '../../src/backends/local/local-store.js'
import type {PendingBatch} from '../../src/core/record.js'
import {SpoolError} from '../../src/core/errors.js'
import {BENCH_BATCH_BYTES, parseCount, runLoadTest} from '../../src/ops/bench.js'

describe('parseCount', () => {
  it('reads plain and suffixed decimal counts', () => {
    expect(parseCount('1000', '-n')).toBe(1000)
    expect(parseCount('250k', '-n')).toBe(250_000)
    expect(parseCount('1M', '-n')).toBe(1_000_000)
    expect(parseCount('1.5m', '-n')).toBe(1_500_000)
    expect(parseCount('2G', '-n')).toBe(2_000_000_000)
  })
  it.each(['0', '-5', 'abc', '1x', '', '1.5'])('refuses %j', (text) => {
    expect(() => parseCount(text, '-n')).toThrow(SpoolError)
  })
})

describe('runLoadTest', () => {
  it('cuts its appends at BENCH_BATCH_BYTES as well as at --batch records: large records bench too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-bench-'))
    const backend = new LocalBackend({path: join(dir, 'spool.db')})
    const appended: number[] = []
    const append = backend.append.bind(backend)
    backend.append = async (topic: string, batches: PendingBatch[], options?: Parameters<LocalBackend['append']>[2]) => {
      appended.push(batches.reduce((sum, b) => sum + b.count, 0))
      return append(topic, batches, options)
    }
    try {
      const result = await runLoadTest(backend, {topic: 'b', records: 10, recordBytes: 1 << 20, partitions: 1, batchRecords: 16_384, latencySamples: 1, keep: false, signal: new AbortController().signal})
      expect(result.produce.records).toBe(10)
      // 16,384 records a batch at 1 MiB each was one append of everything (1,100 records failed in SQLite).
      expect(Math.max(...appended.slice(0, -1))).toBe(BENCH_BATCH_BYTES / (1 << 20))
    } finally {
      await backend.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
