import type {Backend, CursorCommit, CursorPosition, CursorStore, GroupOffset, TopicInfo} from '../core/backend.js'
import {UnknownCursorError, UnknownTopicError, UsageError} from '../core/errors.js'
import {type Position, resolvePosition} from '../core/positions.js'

/**
 * The identity a cursor keys a source by: file:PATH for a local store, kafka://brokers (sorted, so the
 * order they are named in does not matter) for a Kafka cluster.
 */
export function sourceIdentity(backend: Backend): string {
  if (backend.kind === 'local') return `file:${backend.location}`
  return `kafka://${backend.location.replace(/^kafka:\/\//, '').split(',').sort().join(',')}`
}

/** Whether a stored position belongs to the topic as it is now (and not to one of its name deleted before). */
function sameTopic(stored: string | undefined, info: TopicInfo): boolean {
  return stored === undefined || info.topicId === undefined || stored === info.topicId
}

/**
 * A reader's cursor: where it resumes in a source, kept in a local store (store) and never on the source,
 * so reading with a cursor commits nothing to the source and works with read-only access to it.
 */
export class ReadCursor {
  readonly store: CursorStore
  readonly identity: string
  private readonly topicIds = new Map<string, string | undefined>()

  constructor(
    readonly name: string,
    /** The local store that keeps the cursor. */
    readonly storeBackend: Backend,
    readonly source: Backend,
  ) {
    if (!storeBackend.cursorStore) throw new Error(`spool bug: ${storeBackend.location} keeps no cursors`)
    this.store = storeBackend.cursorStore()
    this.identity = sourceIdentity(source)
  }

  /**
   * Where to resume in these topics: the stored positions that still belong to them. `notes` says which
   * topics were deleted and created again since the cursor read them (their positions are dropped, and
   * they are read from --from as if new).
   */
  async resume(topics: string[]): Promise<{offsets: GroupOffset[]; notes: string[]}> {
    const stored = (await this.store.cursorPositions(this.name)).filter((p) => p.source === this.identity && topics.includes(p.topic))
    const offsets: GroupOffset[] = []
    const notes: string[] = []
    for (const topic of new Set(topics)) {
      const info = await this.source.describeTopic(topic)
      this.topicIds.set(topic, info.topicId)
      const mine = stored.filter((p) => p.topic === topic)
      if (mine.some((p) => !sameTopic(p.topicId, info))) {
        notes.push(`cursor '${this.name}': topic '${topic}' was deleted and created again since the cursor last read it; reading it from --from`)
        continue
      }
      for (const p of mine) offsets.push({topic, partition: p.partition, offset: p.offset})
    }
    return {offsets, notes}
  }

  /** The positions to store, tagged with the identity of each topic as resume() saw it. */
  commitOf(offsets: GroupOffset[]): CursorCommit {
    return {cursor: this.name, source: this.identity, offsets: offsets.map((o) => ({...o, topicId: this.topicIds.get(o.topic)}))}
  }

  async commit(offsets: GroupOffset[]): Promise<void> {
    await this.store.commitCursor(this.commitOf(offsets))
  }
}

export interface CursorSummary {
  cursor: string
  sources: string[]
  topics: string[]
  partitions: number
  /** When it last moved, ISO 8601. */
  updated: string
}

/** The cursors in a store, from the store alone: listing never reaches the sources. */
export async function summarizeCursors(store: CursorStore): Promise<CursorSummary[]> {
  const byName = new Map<string, CursorPosition[]>()
  for (const p of await store.cursorPositions()) byName.set(p.cursor, [...(byName.get(p.cursor) ?? []), p])
  return [...byName].map(([cursor, positions]) => ({
    cursor,
    sources: [...new Set(positions.map((p) => p.source))],
    topics: [...new Set(positions.map((p) => p.topic))],
    partitions: positions.length,
    updated: new Date(Math.max(...positions.map((p) => p.updatedAt))).toISOString(),
  }))
}

/** Opens a cursor's source by its identity, for reading. */
export type SourceOpener = (identity: string) => Promise<Backend>

export interface CursorPartitionState {
  source: string
  topic: string
  partition: number
  /** null: no position here yet (a partition added since, or a topic created again): read from its start. */
  position: number | null
  /** null where the topic no longer exists. */
  end: number | null
  lag: number | null
}

async function positionsOf(store: CursorStore, name: string): Promise<CursorPosition[]> {
  const positions = await store.cursorPositions(name)
  if (positions.length === 0) throw new UnknownCursorError(name, store.location)
  return positions
}

/** Each (source, topic) a cursor has positions in, with the topic as it is now (undefined when gone). */
async function sourceTopics(positions: CursorPosition[], openSource: SourceOpener) {
  const keys = [...new Set(positions.map((p) => `${p.source}\u0000${p.topic}`))]
  const out: {source: string; topic: string; backend: Backend; info: TopicInfo | undefined; positions: CursorPosition[]}[] = []
  const backends = new Map<string, Backend>()
  for (const key of keys) {
    const [source, topic] = key.split('\u0000') as [string, string]
    let backend = backends.get(source)
    if (!backend) backends.set(source, (backend = await openSource(source)))
    const info = await backend.describeTopic(topic).catch((error: unknown) => {
      if (error instanceof UnknownTopicError) return undefined
      throw error
    })
    out.push({source, topic, backend, info, positions: positions.filter((p) => p.source === source && p.topic === topic)})
  }
  return out
}

/** Per partition of each topic a cursor reads: its position, the end and the lag, as `group describe`. */
export async function describeCursor(store: CursorStore, name: string, openSource: SourceOpener): Promise<{rows: CursorPartitionState[]; notes: string[]}> {
  const rows: CursorPartitionState[] = []
  const notes: string[] = []
  for (const {source, topic, info, positions} of await sourceTopics(await positionsOf(store, name), openSource)) {
    if (!info) {
      notes.push(`topic '${topic}' no longer exists in ${source}`)
      for (const p of positions) rows.push({source, topic, partition: p.partition, position: p.offset, end: null, lag: null})
      continue
    }
    const current = positions.every((p) => sameTopic(p.topicId, info))
    if (!current) notes.push(`topic '${topic}' in ${source} was created again since the cursor read it: the next read starts from --from`)
    for (const part of info.partitionInfo) {
      const offset = current ? positions.find((p) => p.partition === part.partition)?.offset : undefined
      rows.push({source, topic, partition: part.partition, position: offset ?? null, end: part.end, lag: Math.max(0, part.end - (offset ?? part.start))})
    }
  }
  return {rows, notes}
}

export interface CursorResetRow {
  source: string
  topic: string
  partition: number
  current: number | null
  target: number
}

export interface CursorResetOptions {
  to?: Position
  shiftBy?: number
  /** Only these topics; a topic the cursor has not read yet is taken from its one source. */
  topics?: string[]
}

/** What `cursor reset` would do: per partition, the position now and the one it would become. */
export async function planCursorReset(
  store: CursorStore,
  name: string,
  options: CursorResetOptions,
  openSource: SourceOpener,
): Promise<{plan: CursorResetRow[]; commits: CursorCommit[]}> {
  if ((options.to === undefined) === (options.shiftBy === undefined))
    throw new UsageError('cursor reset needs exactly one of --to and --shift-by', 'e.g. --to earliest, --to @-1h or --shift-by -100')
  const positions = await positionsOf(store, name)
  const sources = [...new Set(positions.map((p) => p.source))]
  const wanted = options.topics ? new Set(options.topics) : undefined
  let targets = (await sourceTopics(positions, openSource)).filter((t) => !wanted || wanted.has(t.topic))
  for (const topic of wanted ?? []) {
    if (targets.some((t) => t.topic === topic)) continue
    if (sources.length > 1)
      throw new UsageError(`cursor '${name}' has not read topic '${topic}' and reads several sources`, 'reset a topic it has read, or read it once with --cursor')
    const backend = await openSource(sources[0]!)
    targets = [...targets, {source: sources[0]!, topic, backend, info: await backend.describeTopic(topic), positions: []}]
  }
  const plan: CursorResetRow[] = []
  const commits: CursorCommit[] = []
  for (const {source, topic, backend, info, positions: mine} of targets) {
    if (!info) throw new UnknownTopicError(topic, source)
    const current = mine.every((p) => sameTopic(p.topicId, info))
    const commit: CursorCommit = {cursor: name, source, offsets: []}
    for (const part of info.partitionInfo) {
      const now = current ? (mine.find((p) => p.partition === part.partition)?.offset ?? null) : null
      const target =
        options.to !== undefined
          ? await resolvePosition(options.to, part, (ts) => backend.offsetForTime(topic, part.partition, ts))
          : Math.min(Math.max((now ?? part.start) + options.shiftBy!, part.start), part.end)
      plan.push({source, topic, partition: part.partition, current: now, target})
      commit.offsets.push({topic, partition: part.partition, offset: target, topicId: info.topicId})
    }
    commits.push(commit)
  }
  return {plan, commits}
}

export async function applyCursorReset(store: CursorStore, commits: CursorCommit[]): Promise<void> {
  for (const commit of commits) await store.commitCursor(commit)
}
