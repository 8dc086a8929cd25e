import {type GroupOffset, type PartitionInfo, partitionKey, type TopicChanges, type TopicInfo, type TopicSettings} from '../../core/backend.js'
import {PartitionsNotAddedError, SpoolError, TopicExistsError, UnknownGroupError, UnknownTopicError, UnreachableError, UsageError} from '../../core/errors.js'
import {validateTopicName} from '../../core/topic-name.js'
import {apiErrors, type KafkaClient} from './client.js'

export const TIMESTAMP_LATEST = -1n
export const TIMESTAMP_EARLIEST = -2n
const INTERNAL_TOPIC = /^__/

/** Topics, offsets and groups through the client's admin API. */
export class KafkaAdmin {
  constructor(private readonly client: KafkaClient) {}

  async createTopic(name: string, settings: TopicSettings): Promise<TopicInfo> {
    validateTopicName(name)
    const configs: {name: string; value: string}[] = []
    if (settings.retentionMs !== undefined) configs.push({name: 'retention.ms', value: String(settings.retentionMs)})
    if (settings.retentionBytes !== undefined) configs.push({name: 'retention.bytes', value: String(settings.retentionBytes)})
    for (const [key, value] of Object.entries(settings.configs ?? {})) configs.push({name: key, value})
    const {location} = this.client
    try {
      await this.client.call(`creating topic '${name}'`, () =>
        this.client.admin.createTopics({topics: [name], partitions: settings.partitions, replicas: settings.replicationFactor ?? -1, configs}),
      )
    } catch (error) {
      const codes = apiErrors(error)
      if (codes.has('TOPIC_ALREADY_EXISTS')) throw new TopicExistsError(name, location)
      if (codes.has('INVALID_REPLICATION_FACTOR')) throw new UsageError(`replication factor ${settings.replicationFactor} is more than ${location} has brokers`)
      if (configs.length > 0 && (codes.has('INVALID_CONFIG') || codes.has('INVALID_REQUEST')))
        throw new UsageError(`${location} refused the configs ${configs.map((c) => `${c.name}=${c.value}`).join(', ')} for '${name}'`, "check the names and values against Kafka's topic configs")
      throw error
    }
    return this.waitForTopic(name)
  }

  /**
   * CreatePartitions, then IncrementalAlterConfigs (SET: configs not named keep their values, unlike the
   * older AlterConfigs which resets them). The two are separate requests: Kafka has no transaction over
   * them, so a refused config leaves the added partitions added, and the error says so.
   */
  async alterTopic(name: string, changes: TopicChanges): Promise<TopicInfo> {
    const {topic} = await this.topicMetadata(name, true)
    const {location} = this.client
    if (changes.partitions !== undefined) {
      if (changes.partitions <= topic.partitionsCount) throw new PartitionsNotAddedError(name, topic.partitionsCount, changes.partitions)
      try {
        await this.client.call(`adding partitions to '${name}'`, () => this.client.admin.createPartitions({topics: [{name, count: changes.partitions!}]}), name)
      } catch (error) {
        if (apiErrors(error).has('INVALID_PARTITIONS')) throw new UsageError(`${location} refused ${changes.partitions} partitions for '${name}'`, "partitions can only be added, up to the cluster's limit")
        throw error
      }
    }
    const configs: {name: string; value: string}[] = Object.entries(changes.configs ?? {}).map(([key, value]) => ({name: key, value}))
    if (changes.retentionMs !== undefined) configs.push({name: 'retention.ms', value: String(changes.retentionMs)})
    if (changes.retentionBytes !== undefined) configs.push({name: 'retention.bytes', value: String(changes.retentionBytes)})
    if (configs.length > 0) {
      try {
        await this.client.call(`changing the configs of '${name}'`, () =>
          this.client.admin.incrementalAlterConfigs({
            resources: [{resourceType: 2, resourceName: name, configs: configs.map((c) => ({name: c.name, value: c.value, configOperation: 0 as const}))}],
          }),
          name,
        )
      } catch (error) {
        const added = changes.partitions === undefined ? '' : ` (the partitions were added: '${name}' now has ${changes.partitions})`
        if (apiErrors(error).has('INVALID_CONFIG') || apiErrors(error).has('INVALID_REQUEST'))
          throw new UsageError(`${location} refused the configs ${configs.map((c) => `${c.name}=${c.value}`).join(', ')} for '${name}'${added}`, "check the names and values against Kafka's topic configs")
        if (added) throw new SpoolError(`${(error as Error).message}${added}`, {cause: error})
        throw error
      }
    }
    return this.waitForChanges(name, changes)
  }

  /**
   * New partitions take a moment to reach every broker's metadata and get leaders, and new configs to
   * reach the broker that answers DescribeConfigs (the controller has committed them when it answers the
   * alter; a loaded broker was seen still reporting the old retention just after).
   */
  private async waitForChanges(name: string, changes: TopicChanges): Promise<TopicInfo> {
    const deadline = Date.now() + this.client.timeoutMs
    // A negative retention is "forever", which a description reports as no limit.
    const limit = (value: number | undefined) => (value !== undefined && value >= 0 ? value : undefined)
    const applied = (info: TopicInfo) =>
      (changes.partitions === undefined || info.partitions >= changes.partitions) &&
      (info.retentionUnknown === true ||
        ((changes.retentionMs === undefined || info.retentionMs === limit(changes.retentionMs)) &&
          (changes.retentionBytes === undefined || info.retentionBytes === limit(changes.retentionBytes))))
    for (;;) {
      try {
        const info = await this.describeTopic(name)
        if (applied(info) || Date.now() > deadline) return info
      } catch (error) {
        if (Date.now() > deadline) throw error
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** A new topic takes a moment to reach every broker's metadata and get leaders. */
  private async waitForTopic(name: string): Promise<TopicInfo> {
    const deadline = Date.now() + this.client.timeoutMs
    for (;;) {
      try {
        return await this.describeTopic(name)
      } catch (error) {
        if (Date.now() > deadline) throw error
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  }

  async listTopics(): Promise<TopicInfo[]> {
    const names = (await this.client.call('listing topics', () => this.client.admin.listTopics())).filter((n) => !INTERNAL_TOPIC.test(n)).sort()
    try {
      return await this.describeTopics(names)
    } catch (error) {
      if (!(error instanceof UnknownTopicError)) throw error
    }
    // A topic was deleted between the listing and its description: describe one by one, skipping it.
    const described = await Promise.all(
      names.map((name) =>
        this.describeTopic(name).catch((error: unknown) => {
          if (error instanceof UnknownTopicError) return undefined
          throw error
        }),
      ),
    )
    return described.filter((t): t is TopicInfo => t !== undefined)
  }

  /** Metadata of the topics, in their order; UnknownTopicError for one the cluster does not have. */
  async topicsMetadata(names: string[], forceUpdate = false) {
    const metadata = await this.client.call(`reading metadata of '${names.join("', '")}'`, () => this.client.admin.metadata({topics: names, forceUpdate}), names[0])
    const topics = names.map((name) => {
      const topic = metadata.topics.get(name)
      if (!topic) throw new UnknownTopicError(name, this.client.location)
      return topic
    })
    return {metadata, topics}
  }

  async topicMetadata(name: string, forceUpdate = false) {
    const {metadata, topics} = await this.topicsMetadata([name], forceUpdate)
    return {metadata, topic: topics[0]!}
  }

  async describeTopic(name: string): Promise<TopicInfo> {
    return (await this.describeTopics([name]))[0]!
  }

  /**
   * Several topics in five requests whatever their number (metadata, earliest and latest offsets,
   * configs, log-dir sizes), so that `topic list` and `spool top` stay cheap on a cluster of many topics.
   */
  private async describeTopics(names: string[]): Promise<TopicInfo[]> {
    if (names.length === 0) return []
    const topics = (await this.topicsMetadata(names, true)).topics.map((topic, i) => {
      const name = names[i]!
      if (topic.partitions.some((p) => p === undefined || p.leader < 0)) throw new UnreachableError(`topic '${name}' has partitions without a leader in ${this.client.location}`)
      return {name, topic, indexes: Array.from({length: topic.partitionsCount}, (_, i) => i)}
    })
    const partitions = topics.map((t) => ({name: t.name, partitions: t.indexes}))
    const [starts, ends, configs, sizes] = await Promise.all([
      this.listOffsets(partitions, TIMESTAMP_EARLIEST),
      this.listOffsets(partitions, TIMESTAMP_LATEST),
      this.retentionConfigs(names),
      this.partitionSizes(partitions),
    ])
    return topics.map(({name, topic, indexes}) => {
      const config = new Map(configs?.find((c) => c.resourceName === name)?.configs.map((c) => [c.name, c.value]) ?? [])
      const limit = (key: string) => {
        const value = Number(config.get(key) ?? -1)
        return value >= 0 ? value : undefined
      }
      return {
        name,
        partitions: topic.partitionsCount,
        retentionMs: limit('retention.ms'),
        retentionBytes: limit('retention.bytes'),
        ...(configs === undefined ? {retentionUnknown: true} : {}),
        replicationFactor: topic.partitions[0]?.replicas.length,
        // Brokers that predate topic ids answer with the all-zero id, which tells topics apart no better than their names.
        topicId: topic.id && !/^[0-]*$/.test(topic.id) ? topic.id : undefined,
        partitionInfo: indexes.map((p): PartitionInfo => {
          const key = partitionKey(name, p)
          return {partition: p, start: starts.get(key) ?? 0, end: ends.get(key) ?? 0, bytes: sizes.get(key) ?? 0}
        }),
      }
    })
  }

  /**
   * The topics' retention configs; undefined where the user may not read them. Read-only ACLs grant READ
   * and DESCRIBE on a topic, not DESCRIBE_CONFIGS: such a user reads the topic all the same, and only its
   * retention goes unknown.
   */
  private async retentionConfigs(names: string[]) {
    try {
      return await this.client.call(
        'reading topic configurations',
        () => this.client.admin.describeConfigs({resources: names.map((name) => ({resourceType: 2 as const, resourceName: name, configurationKeys: ['retention.ms', 'retention.bytes']}))}),
        // A topic deleted since the metadata was read: UnknownTopicError, which listTopics skips.
        names[0],
      )
    } catch (error) {
      if (apiErrors(error).has('TOPIC_AUTHORIZATION_FAILED')) return undefined
      throw error
    }
  }

  /** Bytes on disk per partition, from the brokers' log directories (0 where a broker will not say). */
  private async partitionSizes(topics: {name: string; partitions: number[]}[]): Promise<Map<string, number>> {
    const sizes = new Map<string, number>()
    try {
      const brokers = await this.client.call('reading log directories', () => this.client.admin.describeLogDirs({topics}))
      for (const broker of brokers)
        for (const dir of broker.results)
          for (const topic of dir.topics)
            for (const p of topic.partitions) {
              const key = partitionKey(topic.name, p.partitionIndex)
              sizes.set(key, (sizes.get(key) ?? 0) + Number(p.partitionSize))
            }
    } catch {
      // Sizes are a nicety: a broker that refuses DescribeLogDirs (ACLs) still lists and describes topics.
    }
    return sizes
  }

  /**
   * The offsets at `timestamp` (or TIMESTAMP_EARLIEST / _LATEST) of the topics' partitions, by partitionKey.
   * Read committed, as spool's fetches are: the latest is the last stable offset, so that a bounded read
   * does not wait on records of a transaction still open, which a read-committed fetch does not return.
   */
  async listOffsets(topics: {name: string; partitions: number[]}[], timestamp: bigint): Promise<Map<string, number>> {
    const listed = await this.client.call(
      `listing offsets of '${topics.map((t) => t.name).join("', '")}'`,
      () =>
        this.client.admin.listOffsets({
          isolationLevel: 1, // read committed, as the fetches (fetch.ts, READ_COMMITTED)
          topics: topics.map((t) => ({name: t.name, partitions: t.partitions.map((partitionIndex) => ({partitionIndex, timestamp}))})),
        }),
      topics[0]?.name,
    )
    const offsets = new Map<string, number>()
    for (const t of listed) for (const p of t.partitions) offsets.set(partitionKey(t.name, p.partitionIndex), Number(p.offset))
    return offsets
  }

  async offsetForTime(topic: string, partition: number, timestamp: number): Promise<number> {
    const key = partitionKey(topic, partition)
    const offset = (await this.listOffsets([{name: topic, partitions: [partition]}], BigInt(timestamp))).get(key) ?? -1
    if (offset >= 0) return offset
    return (await this.listOffsets([{name: topic, partitions: [partition]}], TIMESTAMP_LATEST)).get(key) ?? 0
  }

  async deleteTopic(name: string): Promise<void> {
    await this.topicMetadata(name)
    await this.client.call(`deleting topic '${name}'`, () => this.client.admin.deleteTopics({topics: [name]}), name)
  }

  async listGroups(): Promise<string[]> {
    const groups = await this.client.call('listing consumer groups', () => this.client.admin.listGroups())
    return [...groups.keys()].sort()
  }

  async groupOffsets(group: string): Promise<GroupOffset[]> {
    const result = await this.client.call(`reading the offsets of group '${group}'`, () => this.client.admin.listConsumerGroupOffsets({groups: [group]}))
    const offsets: GroupOffset[] = []
    for (const g of result)
      for (const t of g.topics)
        for (const p of t.partitions) if (p.committedOffset >= 0n) offsets.push({topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset)})
    return offsets.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  }

  /** Refuses a group with members (another consumer reads with it): spool's commits would be refused. */
  async checkGroupIdle(group: string): Promise<void> {
    const described = await this.client.call(`describing group '${group}'`, () => this.client.admin.describeGroups({groups: [group]}))
    if ((described.get(group)?.members.size ?? 0) > 0) throw activeMembers(group, this.client.location)
  }

  async commitOffsets(group: string, offsets: GroupOffset[]): Promise<void> {
    const byTopic = new Map<string, {partition: number; offset: bigint}[]>()
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), {partition: o.partition, offset: BigInt(o.offset)}])
    try {
      await this.client.call(`committing offsets of group '${group}'`, () =>
        this.client.admin.alterConsumerGroupOffsets({groupId: group, topics: [...byTopic].map(([name, partitionOffsets]) => ({name, partitionOffsets}))}),
      )
    } catch (error) {
      const codes = apiErrors(error)
      if (codes.has('UNKNOWN_MEMBER_ID') || codes.has('ILLEGAL_GENERATION') || codes.has('REBALANCE_IN_PROGRESS') || codes.has('NON_EMPTY_GROUP'))
        throw activeMembers(group, this.client.location, error)
      throw error
    }
  }

  async deleteGroup(group: string): Promise<void> {
    if (!(await this.listGroups()).includes(group)) throw new UnknownGroupError(group, this.client.location)
    await this.client.call(`deleting group '${group}'`, () => this.client.admin.deleteGroups({groups: [group]}))
  }
}

function activeMembers(group: string, location: string, cause?: unknown): SpoolError {
  return new SpoolError(`consumer group '${group}' has active members in ${location}; spool commits only for groups nobody else is consuming with`, {
    hint: 'stop the other consumers of the group, or use another group name',
    cause,
  })
}
