import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, inject, it} from 'vitest'
// @ts-expect-error: a plain ESM script shared with the bench, without type declarations
import {aclCommandClass, kafkaToolCommand, RESTRICTED_USER} from '../../scripts/kafka-broker.mjs'
import {run, tempHome, unique} from '../helpers/cli.js'

// The test broker enforces ACLs for one SASL user (RESTRICTED_USER) and no other: every identity the
// other tests use is a super user. This file grants that user the read-only ACLs a consumer is commonly
// given (READ and DESCRIBE on one topic, nothing on groups, nor DESCRIBE_CONFIGS) and reads as it.
const kafka = inject('kafka')
const sasl = `kafka://${kafka.sasl}`
const readerName = RESTRICTED_USER as string
let t: ReturnType<typeof tempHome>
/** spool as a super user, over PLAINTEXT. */
let admin: NodeJS.ProcessEnv
/** spool as the restricted user over SASL/SCRAM, against the default local store unless -b says otherwise. */
let reader: NodeJS.ProcessEnv
let topic: string

const lines = (from: number, to: number) => Array.from({length: to - from}, (_, i) => `r${from + i}`).join('\n') + '\n'

/** kafka-acls.sh from the broker's own jars, connecting as the SASL super user admin. */
function kafkaAcls(args: string[]): string {
  const config = join(t.home, 'admin.properties')
  writeFileSync(
    config,
    [
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=PLAIN',
      `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${kafka.users.admin}";`,
    ].join('\n') + '\n',
  )
  const [java, javaArgs] = kafkaToolCommand(aclCommandClass(kafka.version), ['--bootstrap-server', kafka.sasl, '--command-config', config, ...args], {version: kafka.version}) as [
    string,
    string[],
  ]
  return execFileSync(java, javaArgs, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000})
}

const groups = async () => {
  const listed = await run(['group', 'list', '--json'], {env: admin})
  expect(listed.code, listed.stderr).toBe(0)
  return JSON.parse(listed.stdout.toString()).map((g: {group: string}) => g.group) as string[]
}

beforeEach(() => {
  t = tempHome()
  admin = {...t.env, SPOOL_BROKER: `kafka://${kafka.plaintext}`, SPOOL_CONFIG_HOME: join(t.home, 'config')}
  reader = {
    ...t.env,
    SPOOL_CONFIG_HOME: join(t.home, 'config'),
    SPOOL_SASL_MECHANISM: 'SCRAM-SHA-256',
    SPOOL_SASL_USERNAME: readerName,
    SPOOL_SASL_PASSWORD: kafka.users[readerName]!,
  }
  topic = unique('acl')
})
afterEach(() => t.cleanup())

describe('cursors with read-only ACLs', () => {
  it('a user with READ and DESCRIBE on a topic only reads it with --cursor, resumes, and leaves no group; -g is refused with one line', async () => {
    expect((await run(['produce', topic], {env: admin, input: lines(0, 30)})).code).toBe(0)
    const unreadable = unique('acl-other')
    expect((await run(['produce', unreadable], {env: admin, input: 'secret\n'})).code).toBe(0)
    const granted = kafkaAcls(['--add', '--allow-principal', `User:${readerName}`, '--operation', 'Read', '--operation', 'Describe', '--topic', topic])
    expect(granted).toContain(`name=${topic}`)
    const groupsBefore = await groups()

    // The ACLs are honoured: the other topic is refused, with what is missing.
    const refused = await run(['consume', unreadable, '-b', sasl], {env: reader})
    expect(refused.code).toBe(1)
    expect(refused.stdout.toString()).toBe('')
    expect(refused.stderr).toMatch(/^spool: kafka:\/\/\S+ refused reading metadata of '\S+': not authorized \(TOPIC_AUTHORIZATION_FAILED\) \(reading a topic needs READ and DESCRIBE on it/)
    expect(refused.stderr.trimEnd().split('\n')).toHaveLength(1)

    const cursor = unique('c')
    const first = await run(['consume', topic, '-b', sasl, '--cursor', cursor, '-c', '10'], {env: reader})
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout.toString()).toBe(lines(0, 10))
    const second = await run(['consume', topic, '-b', sasl, '--cursor', cursor, '-c', '10'], {env: reader})
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout.toString()).toBe(lines(10, 20))

    const listed = await run(['cursor', 'list', '--json'], {env: reader})
    expect(listed.code, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout.toString())).toEqual([expect.objectContaining({cursor, sources: [sasl], topics: [topic], partitions: 1})])
    // The lag needs the topic's end offset: the reader may ask for it (DESCRIBE).
    const described = await run(['cursor', 'describe', cursor, '--json'], {env: reader})
    expect(described.code, described.stderr).toBe(0)
    expect(JSON.parse(described.stdout.toString())).toEqual([{source: sasl, topic, partition: 0, position: 20, end: 30, lag: 10}])

    // Describing the topic needs no DESCRIBE_CONFIGS: only the retention is not known.
    const topicDescribed = await run(['topic', 'describe', topic, '-b', sasl, '--json'], {env: reader})
    expect(topicDescribed.code, topicDescribed.stderr).toBe(0)
    expect(JSON.parse(topicDescribed.stdout.toString())).toMatchObject({name: topic, partitions: 1, records: 30, retention_ms: null, retention_unknown: true})
    expect(JSON.parse((await run(['topic', 'describe', topic, '--json'], {env: admin})).stdout.toString())).not.toHaveProperty('retention_unknown')

    // The contrast: a consumer group needs READ on the group, which this user has not got.
    const withGroup = await run(['consume', topic, '-b', sasl, '-g', 'acl-group', '-c', '5'], {env: reader})
    expect(withGroup.code).toBe(1)
    expect(withGroup.stdout.toString()).toBe('')
    expect(withGroup.stderr).toMatch(/^spool: kafka:\/\/\S+ refused describing group 'acl-group': not authorized \(GROUP_AUTHORIZATION_FAILED\) \(.*--cursor NAME/)
    expect(withGroup.stderr.trimEnd().split('\n')).toHaveLength(1)

    // pipe from the cluster into the local store on a cursor: all of it, then only what is new.
    expect((await run(['topic', 'create', 'copy'], {env: reader})).code).toBe(0)
    const piped = await run(['pipe', `${sasl}/${topic}`, 'copy', '--cursor', 'bridge'], {env: reader})
    expect(piped.code, piped.stderr).toBe(0)
    expect((await run(['produce', topic], {env: admin, input: lines(30, 35)})).code).toBe(0)
    const pipedAgain = await run(['pipe', `${sasl}/${topic}`, 'copy', '--cursor', 'bridge'], {env: reader})
    expect(pipedAgain.code, pipedAgain.stderr).toBe(0)
    expect((await run(['consume', 'copy'], {env: reader})).stdout.toString()).toBe(lines(0, 35))
    expect((await run(['consume', topic, '-b', sasl, '--cursor', cursor], {env: reader})).stdout.toString()).toBe(lines(20, 35))

    // Nothing was committed to the cluster: no group appeared, under the cursors' names or any other.
    const groupsAfter = await groups()
    expect(groupsAfter.filter((g) => !groupsBefore.includes(g))).toEqual([])
    expect(groupsAfter).not.toContain(cursor)
    expect(groupsAfter).not.toContain('bridge')
    // Kafka's ACL tool starts a JVM, and each spool run is a process of its own: slow on a loaded machine.
  }, 180_000)
})
