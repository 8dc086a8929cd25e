import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import Check from '../../commands/check.js'
import Consume from '../../commands/consume.js'
import GroupDelete from '../../commands/group/delete.js'
import Produce from '../../commands/produce.js'
import TopicCreate from '../../commands/topic/create.js'
import TopicDelete from '../../commands/topic/delete.js'
import TopicDescribe from '../../commands/topic/describe.js'
import TopicList from '../../commands/topic/list.js'
import {runInProcess} from '../helpers/in-process.js'

// Commands run in this process through the I/O seam (src/io/streams.ts): what they print on stdout and
// stderr and the exit status they choose, without spawning a process each.
let home: string
let env: Record<string, string | undefined>
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'spool-inproc-'))
  env = {SPOOL_HOME: home, SPOOL_BROKER: undefined, SPOOL_CONTEXT: undefined, SPOOL_CONFIG_HOME: join(home, 'config'), NO_COLOR: '1'}
})
afterEach(() => rmSync(home, {recursive: true, force: true}))

describe('commands in-process', () => {
  it('topic create, list, describe and delete print their data on stdout and notes on stderr', async () => {
    expect(await runInProcess(TopicCreate, ['clicks', '-p', '3', '--retention', '7d'], env)).toEqual({code: 0, stdout: '', stderr: "spool: created topic 'clicks' (3 partitions)\n"})
    const listed = await runInProcess(TopicList, ['--json'], env)
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout)).toMatchObject([{name: 'clicks', partitions: 3, records: 0, retention_ms: 604_800_000}])
    const described = await runInProcess(TopicDescribe, ['clicks'], env)
    expect(described.stdout).toMatch(/Partitions:\s+3/)
    expect(await runInProcess(TopicDelete, ['clicks', '--yes', '--json'], env)).toEqual({code: 0, stdout: JSON.stringify({deleted: 'clicks', partitions: 3, records: 0}, null, 2) + '\n', stderr: ''})
  })

  it.each([
    [Consume, ['']],
    [Consume, ['t', '-p', '2-1']],
    [Consume, ['t', '--from', '8', '--until', '5']],
    [Consume, ['t', '--from', 'soon']],
    [TopicCreate, ['r', '--retention', '99999999999999999999d']],
    [TopicCreate, ['r', '--retention', 'never']],
    [TopicCreate, ['r', '--retention-bytes', '0']],
    [TopicCreate, ['r', '--retention-bytes', '1XB']],
    [TopicDelete, ['../x', '--yes']],
    [Produce, ['t', '-K', '']],
  ])('%o %j: a usage error, one line on stderr, exit 2, nothing created', async (command, argv) => {
    const result = await runInProcess(command, argv as string[], env)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    expect(result.stderr).toMatch(/^spool: /)
    expect(existsSync(join(home, 'spool.db'))).toBe(false)
  })

  it('reads of a store that does not exist create nothing; deletes of what is not there neither', async () => {
    expect(await runInProcess(TopicList, [], env)).toEqual({code: 0, stdout: '', stderr: `spool: no topics in ${join(home, 'spool.db')}\n`})
    expect((await runInProcess(Consume, ['t'], env)).code).toBe(1)
    expect((await runInProcess(TopicDelete, ['t', '--yes'], env)).stderr).toMatch(/see the topics with: spool topic list/)
    expect((await runInProcess(GroupDelete, ['g'], env)).code).toBe(1)
    // check says there is nothing to check, where it passed an empty store (a mistyped path looked healthy).
    expect(await runInProcess(Check, ['--json'], env)).toMatchObject({code: 1, stderr: `spool: there is no store at ${join(home, 'spool.db')} (check the path given with -b file:PATH, or SPOOL_HOME)\n`})
    expect(existsSync(join(home, 'spool.db'))).toBe(false)
  })
})
