import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {Assignment, Backend} from '../../src/core/backend.js'
import {SpoolError, UnknownGroupError, UnknownTopicError, UsageError} from '../../src/core/errors.js'
import {KeySelection} from '../../src/core/key-selection.js'
import {type FeedRecord, type Header, PendingBatch, recordAt, recordSize} from '../../src/core/record.js'

/**
 * What every backend must do, whatever it stores records in. Each backend's test file calls this with a
 * factory; `second` opens another client on the same storage (another connection, another process's view).
 */
export interface BackendFixture {
  backend: Backend
  second: () => Promise<Backend>
  cleanup: () => Promise<void>
}

interface Input {
  value: Buffer | null
  key?: Buffer | null
  headers?: Header[]
  timestamp?: number
}

export function batchOf(partition: number, records: Input[]): PendingBatch {
  const batch = new PendingBatch(partition)
  for (const r of records) {
    const headers = r.headers ?? null
    batch.add(r.value, r.key ?? null, headers, r.timestamp ?? 1_700_000_000_000, recordSize(r.key ?? null, r.value, headers))
  }
  return batch
}

const text = (s: string) => Buffer.from(s)

async function readAll(backend: Backend, assignments: Assignment[]): Promise<FeedRecord[]> {
  const records: FeedRecord[] = []
  for await (const batch of backend.read(assignments, {signal: new AbortController().signal}))
    for (let i = 0; i < batch.count; i++) records.push(recordAt(batch, i))
  return records
}

/** Where backends differ by design, so the suite asks each what it promises. */
export interface BackendTraits {
  /**
   * The local store applies retention as records are written; Kafka deletes whole log segments on its own
   * schedule (log.retention.check.interval.ms), so there the suite checks that the limits are kept.
   */
  retentionEnforcedOnWrite: boolean
}

export function backendContract(name: string, open: () => Promise<BackendFixture>, traits: BackendTraits = {retentionEnforcedOnWrite: true}): void {
  describe(`Backend contract: ${name}`, () => {
    let fixture: BackendFixture
    let backend: Backend
    beforeEach(async () => {
      fixture = await open()
      backend = fixture.backend
    })
    afterEach(async () => {
      await fixture.backend.close()
      await fixture.cleanup()
    })

    describe('topics', () => {
      it('creates, describes, lists and deletes a topic', async () => {
        const created = await backend.createTopic('orders', {partitions: 3, retentionMs: 86_400_000})
        expect(created.name).toBe('orders')
        expect(created.partitions).toBe(3)
        expect(created.partitionInfo.map((p) => [p.partition, p.start, p.end])).toEqual([
          [0, 0, 0],
          [1, 0, 0],
          [2, 0, 0],
        ])
        const described = await backend.describeTopic('orders')
        expect(described.retentionMs).toBe(86_400_000)
        expect((await backend.listTopics()).map((t) => t.name)).toContain('orders')
        await backend.deleteTopic('orders')
        expect((await backend.listTopics()).map((t) => t.name)).not.toContain('orders')
        await expect(backend.describeTopic('orders')).rejects.toBeInstanceOf(UnknownTopicError)
      })

      it('refuses a second topic of the same name', async () => {
        await backend.createTopic('twice', {partitions: 1})
        await expect(backend.createTopic('twice', {partitions: 1})).rejects.toBeInstanceOf(SpoolError)
      })

      it('refuses names Kafka refuses, before touching storage', async () => {
        for (const bad of ['', '..', 'a b', 'a/b', 'x'.repeat(250)])
          await expect(backend.createTopic(bad, {partitions: 1})).rejects.toBeInstanceOf(UsageError)
        expect(await backend.listTopics()).toEqual([])
      })

      it('says which topic is unknown', async () => {
        await expect(backend.describeTopic('ghost')).rejects.toThrow(/ghost/)
        await expect(backend.deleteTopic('ghost')).rejects.toBeInstanceOf(UnknownTopicError)
      })
    })

    describe('alter', () => {
      it('adds partitions, keeping every record where it was, and another client sees the new count', async () => {
        await backend.createTopic('growing', {partitions: 2})
        await backend.append('growing', [batchOf(0, [{value: text('a')}, {value: text('b')}]), batchOf(1, [{value: text('c')}])])
        const altered = await backend.alterTopic('growing', {partitions: 5})
        expect(altered.partitions).toBe(5)
        expect(altered.partitionInfo.map((p) => [p.partition, p.start, p.end])).toEqual([
          [0, 0, 2],
          [1, 0, 1],
          [2, 0, 0],
          [3, 0, 0],
          [4, 0, 0],
        ])
        const other = await fixture.second()
        try {
          expect((await other.describeTopic('growing')).partitions).toBe(5)
          await other.append('growing', [batchOf(4, [{value: text('new')}])])
        } finally {
          await other.close()
        }
        expect((await readAll(backend, [{topic: 'growing', partition: 0, from: 0, until: 2}])).map((r) => r.value?.toString())).toEqual(['a', 'b'])
        expect((await readAll(backend, [{topic: 'growing', partition: 4, from: 0, until: 1}])).map((r) => r.value?.toString())).toEqual(['new'])
      })

      it('refuses as many or fewer partitions, changing nothing', async () => {
        await backend.createTopic('fixed', {partitions: 3})
        await expect(backend.alterTopic('fixed', {partitions: 3})).rejects.toThrow(/already has 3 partitions/)
        await expect(backend.alterTopic('fixed', {partitions: 2})).rejects.toBeInstanceOf(UsageError)
        expect((await backend.describeTopic('fixed')).partitions).toBe(3)
      })

      it('changes retention, by field or by config name, leaving what is not named', async () => {
        await backend.createTopic('kept', {partitions: 1, retentionMs: 3_600_000})
        const bytes = await backend.alterTopic('kept', {retentionBytes: 1 << 20})
        expect([bytes.retentionMs, bytes.retentionBytes]).toEqual([3_600_000, 1 << 20])
        await backend.alterTopic('kept', {configs: {'retention.ms': '86400000'}})
        const info = await backend.describeTopic('kept')
        expect([info.retentionMs, info.retentionBytes, info.partitions]).toEqual([86_400_000, 1 << 20, 1])
      })

      it('refuses a config it does not know, and a topic that does not exist', async () => {
        await backend.createTopic('plain', {partitions: 1})
        await expect(backend.alterTopic('plain', {configs: {'no.such.config': '1'}})).rejects.toBeInstanceOf(UsageError)
        await expect(backend.alterTopic('absent', {partitions: 2})).rejects.toBeInstanceOf(UnknownTopicError)
      })
    })

    describe('append', () => {
      it('assigns dense offsets per partition, continuing across appends', async () => {
        await backend.createTopic('dense', {partitions: 2})
        await backend.append('dense', [batchOf(0, [{value: text('a')}, {value: text('b')}]), batchOf(1, [{value: text('c')}])])
        const result = await backend.append('dense', [batchOf(0, [{value: text('d')}])])
        expect(result).toEqual({count: 1, created: false})
        const info = await backend.describeTopic('dense')
        expect(info.partitionInfo.map((p) => [p.start, p.end])).toEqual([
          [0, 3],
          [0, 1],
        ])
        const records = await readAll(backend, [{topic: 'dense', partition: 0, from: 0, until: 3}])
        expect(records.map((r) => [r.offset, r.value?.toString()])).toEqual([
          [0, 'a'],
          [1, 'b'],
          [2, 'd'],
        ])
      })

      it('creates a missing topic only when asked to', async () => {
        await expect(backend.append('later', [batchOf(0, [{value: text('x')}])])).rejects.toBeInstanceOf(UnknownTopicError)
        const result = await backend.append('later', [batchOf(0, [{value: text('x')}])], {createWith: {partitions: 2}})
        expect(result).toEqual({count: 1, created: true})
        expect((await backend.describeTopic('later')).partitions).toBe(2)
      })

      it('rejects a batch for a partition the topic does not have, storing nothing of that append', async () => {
        await backend.createTopic('narrow', {partitions: 1})
        await expect(backend.append('narrow', [batchOf(0, [{value: text('ok')}]), batchOf(5, [{value: text('no')}])])).rejects.toThrow(
          /partition 5/,
        )
        expect((await backend.describeTopic('narrow')).partitionInfo[0]!.end).toBe(0)
      })

      it('keeps keys, values, headers and timestamps exactly, binary and null included', async () => {
        const binary = Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0xc3, 0x28])
        const input: Input[] = [
          {value: text('plain'), timestamp: 1},
          {value: null, key: text('tombstone'), timestamp: 2},
          {value: Buffer.alloc(0), key: Buffer.alloc(0), timestamp: 3},
          {value: binary, key: binary, timestamp: 4},
          {
            value: text('with headers'),
            headers: [
              {key: 'dup', value: text('1')},
              {key: 'dup', value: text('2')},
              {key: 'nil', value: null},
              {key: 'bin', value: binary},
            ],
            timestamp: 5,
          },
        ]
        await backend.append('exact', [batchOf(0, input)], {createWith: {partitions: 1}})
        const records = await readAll(backend, [{topic: 'exact', partition: 0, from: 0, until: 5}])
        expect(records.map((r) => ({value: r.value, key: r.key, headers: r.headers, timestamp: r.timestamp}))).toEqual(
          input.map((r) => ({value: r.value, key: r.key ?? null, headers: r.headers ?? [], timestamp: r.timestamp})),
        )
      })
    })

    describe('read', () => {
      beforeEach(async () => {
        await backend.createTopic('log', {partitions: 2})
        // Three appends make three stored batches per partition, so reads start and stop inside batches.
        for (let round = 0; round < 3; round++)
          await backend.append('log', [
            batchOf(0, [0, 1, 2, 3].map((i) => ({value: text(`p0-${round * 4 + i}`), timestamp: 1000 + round * 100 + i}))),
            batchOf(1, [0, 1].map((i) => ({value: text(`p1-${round * 2 + i}`), timestamp: 1000 + round * 100 + i}))),
          ])
      })

      it('returns exactly [from, until) of a partition, across batch edges', async () => {
        const records = await readAll(backend, [{topic: 'log', partition: 0, from: 2, until: 9}])
        expect(records.map((r) => r.offset)).toEqual([2, 3, 4, 5, 6, 7, 8])
        expect(records.map((r) => r.value?.toString())).toEqual(['p0-2', 'p0-3', 'p0-4', 'p0-5', 'p0-6', 'p0-7', 'p0-8'])
      })

      it('reads several partitions in one read, each in offset order', async () => {
        const records = await readAll(backend, [
          {topic: 'log', partition: 0, from: 0, until: 12},
          {topic: 'log', partition: 1, from: 0, until: 6},
        ])
        expect(records).toHaveLength(18)
        for (const partition of [0, 1]) {
          const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset)
          expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
          expect(new Set(offsets).size).toBe(offsets.length)
        }
      })

      it('where it keeps batch metadata, describes the batches of a range as a read finds them', async () => {
        if (!backend.batchSummaries) return
        const summaries = await backend.batchSummaries({topic: 'log', partition: 0, from: 2, until: 9})
        // The batch holding offset 2 starts before it; the one holding offset 8 ends after it.
        expect(summaries.map((b) => [b.baseOffset, b.count, b.minTimestamp, b.maxTimestamp])).toEqual([
          [0, 4, 1000, 1003],
          [4, 4, 1100, 1103],
          [8, 4, 1200, 1203],
        ])
        const read = await readAll(backend, [{topic: 'log', partition: 0, from: 2, until: 9}])
        for (const record of read) {
          const holder = summaries.find((b) => record.offset >= b.baseOffset && record.offset < b.baseOffset + b.count)!
          expect(record.timestamp).toBeGreaterThanOrEqual(holder.minTimestamp)
          expect(record.timestamp).toBeLessThanOrEqual(holder.maxTimestamp)
        }
      })

      it('finds the first offset at or after a time', async () => {
        expect(await backend.offsetForTime('log', 0, 0)).toBe(0)
        expect(await backend.offsetForTime('log', 0, 1101)).toBe(5)
        expect(await backend.offsetForTime('log', 0, 1150)).toBe(8)
        expect(await backend.offsetForTime('log', 0, 99_999)).toBe(12)
      })

      it('follows a partition and sees what another client appends', async () => {
        const writer = await fixture.second()
        try {
          const stop = new AbortController()
          const seen: string[] = []
          const reading = (async () => {
            for await (const batch of backend.read([{topic: 'log', partition: 1, from: 6}], {signal: stop.signal, follow: true}))
              for (let i = 0; i < batch.count; i++) {
                seen.push(batch.valueAt(i)!.toString())
                if (seen.length === 2) stop.abort()
              }
          })()
          await writer.append('log', [batchOf(1, [{value: text('late-1')}])])
          await writer.append('log', [batchOf(1, [{value: text('late-2')}])])
          await reading
          expect(seen).toEqual(['late-1', 'late-2'])
        } finally {
          await writer.close()
        }
      })

      it('ends a follow when the signal aborts, even with nothing new', async () => {
        const stop = new AbortController()
        const reading = (async () => {
          let n = 0
          for await (const batch of backend.read([{topic: 'log', partition: 0, from: 12}], {signal: stop.signal, follow: true})) n += batch.count
          return n
        })()
        setTimeout(() => stop.abort(), 50)
        expect(await reading).toBe(0)
      })

      it('reads only the records of the keys asked for, with their offsets, within [from, until)', async () => {
        await backend.createTopic('keyed', {partitions: 1})
        for (let round = 0; round < 3; round++)
          await backend.append('keyed', [
            batchOf(
              0,
              ['a', 'b', 'a', null, 'ab', 'c'].map((key, i) => ({key: key === null ? null : text(key), value: text(`${round}-${i}`)})),
            ),
          ])
        const read = async (keys: string[], from = 0, until = 18) => {
          const records: FeedRecord[] = []
          const selection = new KeySelection(keys.map(text))
          for await (const batch of backend.read([{topic: 'keyed', partition: 0, from, until}], {signal: new AbortController().signal, keys: selection}))
            for (let i = 0; i < batch.count; i++) records.push(recordAt(batch, i))
          return records.map((r) => `${r.offset}:${r.key?.toString()}:${r.value?.toString()}`)
        }
        expect(await read(['a'])).toEqual(['0:a:0-0', '2:a:0-2', '6:a:1-0', '8:a:1-2', '12:a:2-0', '14:a:2-2'])
        expect(await read(['b', 'c'], 5, 13)).toEqual(['5:c:0-5', '7:b:1-1', '11:c:1-5'])
        expect(await read(['nobody'])).toEqual([])
      })

      it('refuses to read a topic that does not exist', async () => {
        const read = readAll(backend, [{topic: 'ghost', partition: 0, from: 0, until: 1}])
        await expect(read).rejects.toBeInstanceOf(UnknownTopicError)
      })
    })

    describe('consumer groups', () => {
      beforeEach(async () => {
        await backend.createTopic('events', {partitions: 2})
      })

      it('stores, overwrites and lists committed offsets', async () => {
        await backend.commitOffsets('billing', [
          {topic: 'events', partition: 0, offset: 5},
          {topic: 'events', partition: 1, offset: 7},
        ])
        await backend.commitOffsets('billing', [{topic: 'events', partition: 0, offset: 9}])
        expect(await backend.groupOffsets('billing')).toEqual([
          {topic: 'events', partition: 0, offset: 9},
          {topic: 'events', partition: 1, offset: 7},
        ])
        expect(await backend.listGroups()).toContain('billing')
        expect(await backend.groupOffsets('nobody')).toEqual([])
      })

      it('deletes a group, and says so when there is none', async () => {
        await backend.commitOffsets('gone', [{topic: 'events', partition: 0, offset: 1}])
        await backend.deleteGroup('gone')
        expect(await backend.listGroups()).not.toContain('gone')
        await expect(backend.deleteGroup('gone')).rejects.toBeInstanceOf(UnknownGroupError)
      })

      it('commits offsets with an append in one transaction where it can, and refuses where it cannot', async () => {
        const append = backend.append('events', [batchOf(0, [{value: text('copied')}])], {
          commit: {group: 'copier', offsets: [{topic: 'events', partition: 1, offset: 3}]},
        })
        if (!backend.atomicCommit) {
          await expect(append).rejects.toBeInstanceOf(SpoolError)
          return
        }
        await append
        expect(await backend.groupOffsets('copier')).toEqual([{topic: 'events', partition: 1, offset: 3}])
        // A failing append leaves the group where it was.
        await expect(
          backend.append('events', [batchOf(9, [{value: text('nowhere')}])], {
            commit: {group: 'copier', offsets: [{topic: 'events', partition: 1, offset: 4}]},
          }),
        ).rejects.toThrow(/partition 9/)
        expect(await backend.groupOffsets('copier')).toEqual([{topic: 'events', partition: 1, offset: 3}])
      })

      it('knows when another client shares its storage', async () => {
        const other = await fixture.second()
        try {
          expect(backend.sameStoreAs(other)).toBe(true)
        } finally {
          await other.close()
        }
      })
    })

    describe('retention', () => {
      it('keeps the limits a topic was created with', async () => {
        await backend.createTopic('limited', {partitions: 2, retentionMs: 3_600_000, retentionBytes: 1 << 20})
        const info = await backend.describeTopic('limited')
        expect([info.retentionMs, info.retentionBytes]).toEqual([3_600_000, 1 << 20])
        expect((await backend.listTopics()).find((t) => t.name === 'limited')?.retentionBytes).toBe(1 << 20)
      })

      if (!traits.retentionEnforcedOnWrite) return

      it('drops the oldest records past the byte limit, never reusing their offsets', async () => {
        await backend.createTopic('small', {partitions: 1, retentionBytes: 2000})
        for (let i = 0; i < 20; i++) await backend.append('small', [batchOf(0, [{value: Buffer.alloc(300, 97 + (i % 26))}])])
        const part = (await backend.describeTopic('small')).partitionInfo[0]!
        expect(part.end).toBe(20)
        expect(part.start).toBeGreaterThan(0)
        expect(part.bytes).toBeLessThanOrEqual(2000 + 400)
        const records = await readAll(backend, [{topic: 'small', partition: 0, from: 0, until: 20}])
        expect(records[0]!.offset).toBe(part.start)
        expect(records.at(-1)!.offset).toBe(19)
      })

      it('drops records older than the time limit', async () => {
        await backend.createTopic('brief', {partitions: 1, retentionMs: 60_000})
        await backend.append('brief', [batchOf(0, [{value: text('old'), timestamp: Date.now() - 3_600_000}])])
        await backend.append('brief', [batchOf(0, [{value: text('new'), timestamp: Date.now()}])])
        const part = (await backend.describeTopic('brief')).partitionInfo[0]!
        expect([part.start, part.end]).toEqual([1, 2])
      })
    })
  })
}
