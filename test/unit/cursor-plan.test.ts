import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {LocalBackend} from '../../src/backends/local/local-store.js'
import {planRead} from '../../src/ops/read-plan.js'
import {ReadCursor} from '../../src/ops/cursors.js'
import {batchOf} from '../contract/backend-contract.js'

// Where a cursor resumes, against a real store file: the stored positions, the beginning of partitions
// it has none for (added since), --from for topics it has never read.
describe('planRead with a cursor', () => {
  let dir: string
  let backend: LocalBackend
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spool-cursor-'))
    backend = new LocalBackend({path: join(dir, 'spool.db')})
    for (const topic of ['grown', 'fresh']) {
      await backend.createTopic(topic, {partitions: 2})
      const value = {value: Buffer.from('x')}
      await backend.append(topic, [batchOf(0, [value, value, value, value]), batchOf(1, [value, value, value])])
    }
  })
  afterEach(async () => {
    await backend.close()
    rmSync(dir, {recursive: true, force: true})
  })

  it('resumes stored partitions, starts partitions without a position at their beginning and unread topics at --from', async () => {
    const cursor = new ReadCursor('c', backend, backend)
    await cursor.resume(['grown'])
    // As if the topic had one partition when the cursor last read it.
    await cursor.commit([{topic: 'grown', partition: 0, offset: 3}])
    const {offsets, notes} = await cursor.resume(['grown', 'fresh'])
    expect(notes).toEqual([])
    const plan = await planRead(backend, {topics: ['grown', 'fresh'], from: {kind: 'latest'}, follow: false, resume: offsets})
    expect(plan).toEqual([
      {topic: 'grown', partition: 0, from: 3, until: 4},
      {topic: 'grown', partition: 1, from: 0, until: 3},
    ])
  })

  it('keeps positions per source: the same topic name in another store is another position', async () => {
    const other = new LocalBackend({path: join(dir, 'other.db')})
    try {
      const here = new ReadCursor('c', backend, backend)
      await here.resume(['grown'])
      await here.commit([{topic: 'grown', partition: 0, offset: 2}])
      await other.createTopic('grown', {partitions: 1})
      const there = new ReadCursor('c', backend, other)
      expect((await there.resume(['grown'])).offsets).toEqual([])
      expect((await here.resume(['grown'])).offsets).toEqual([{topic: 'grown', partition: 0, offset: 2}])
    } finally {
      await other.close()
    }
  })
})
