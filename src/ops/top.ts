import type {Backend} from '../core/backend.js'
import {summarizeGroups, type GroupSummary} from './groups.js'
import {summarizeTopic} from './topics.js'

/** One look at a backend: what `spool top` draws, and what `top --once --json` prints. */
export interface TopSnapshot {
  /** Milliseconds since the epoch. */
  at: number
  location: string
  topics: TopicLine[]
  groups: GroupSummary[]
}

export interface TopicLine {
  name: string
  partitions: number
  records: number
  bytes: number
  /** The sum of the partitions' end offsets: it only grows, so its change is the write rate. */
  end: number
  /** Records written per second since the previous snapshot (0 for the first). */
  rate: number
  /** Recent rates, oldest first, for the sparkline. */
  history: number[]
}

export const HISTORY = 30

export async function takeSnapshot(backend: Backend, previous?: TopSnapshot, now = Date.now()): Promise<TopSnapshot> {
  const [infos, groups] = await Promise.all([backend.listTopics(), summarizeGroups(backend)])
  const before = new Map(previous?.topics.map((t) => [t.name, t]))
  const seconds = previous ? Math.max((now - previous.at) / 1000, 0.001) : 0
  const topics = infos.map((info): TopicLine => {
    const {records, bytes} = summarizeTopic(info)
    const end = info.partitionInfo.reduce((sum, p) => sum + p.end, 0)
    const last = before.get(info.name)
    const rate = last && seconds > 0 ? Math.max(0, end - last.end) / seconds : 0
    return {
      name: info.name,
      partitions: info.partitions,
      records,
      bytes,
      end,
      rate,
      history: [...(last?.history ?? []), rate].slice(-HISTORY),
    }
  })
  return {at: now, location: backend.location, topics, groups}
}

const BARS = '▁▂▃▄▅▆▇█'

/** A sparkline of `values` scaled to their maximum; blanks where there is no history yet. */
export function sparkline(values: number[], width = HISTORY): string {
  const max = Math.max(...values, 0)
  const line = values.map((v) => (max === 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.round((v / max) * (BARS.length - 1)))]))
  return line.join('').padStart(width, ' ')
}
