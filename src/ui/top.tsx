import {Box, Text, useApp, useInput} from 'ink'
import {useEffect, useRef, useState} from 'react'
import type {FeedRecord} from '../core/record.js'
import {formatBytes} from '../core/units.js'
import {sparkline, type TopSnapshot} from '../ops/top.js'

const number = (n: number) => Math.round(n).toLocaleString('en-US')

/** Bytes as a user reads them on one line: UTF-8 with control characters escaped, cut to `width`. */
function printable(bytes: Buffer | null, width: number): string {
  if (bytes === null) return '∅'
  // eslint-disable-next-line no-control-regex
  const text = bytes.toString('utf8').replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text
}

export interface TopViewProps {
  snapshot: TopSnapshot | undefined
  selected: number
  error?: string
  intervalMs: number
}

/** The dashboard: topics with their write rate and activity, then consumer groups with their lag. */
export function TopView({snapshot, selected, error, intervalMs}: TopViewProps) {
  const topics = snapshot?.topics ?? []
  const groups = snapshot?.groups ?? []
  const nameWidth = Math.max(5, ...topics.map((t) => t.name.length), ...groups.map((g) => g.group.length))
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>spool top</Text>
        <Text dimColor>
          {'  '}
          {snapshot?.location ?? 'connecting…'} · every {intervalMs / 1000}s · ↑↓ select · Enter peek · q quit
        </Text>
      </Text>
      {error ? <Text color="red">{error}</Text> : null}
      <Box marginTop={1}>
        <Text bold>
          {'  '}
          {'TOPIC'.padEnd(nameWidth)}  {'PARTS'.padStart(5)}  {'RECORDS'.padStart(12)}  {'SIZE'.padStart(10)}  {'REC/S'.padStart(9)}  ACTIVITY
        </Text>
      </Box>
      {topics.length === 0 ? <Text dimColor>  no topics yet</Text> : null}
      {topics.map((t, i) => (
        <Text key={t.name} inverse={i === selected}>
          {i === selected ? '› ' : '  '}
          {t.name.padEnd(nameWidth)}  {String(t.partitions).padStart(5)}  {number(t.records).padStart(12)}  {formatBytes(t.bytes).padStart(10)}{'  '}
          {number(t.rate).padStart(9)}  <Text color="green">{sparkline(t.history)}</Text>
        </Text>
      ))}
      <Box marginTop={1}>
        <Text bold>
          {'  '}
          {'GROUP'.padEnd(nameWidth)}  {'LAG'.padStart(12)}  TOPICS
        </Text>
      </Box>
      {groups.length === 0 ? <Text dimColor>  no consumer groups</Text> : null}
      {groups.map((g) => (
        <Text key={g.group}>
          {'  '}
          {g.group.padEnd(nameWidth)}  <Text color={g.lag > 0 ? 'yellow' : undefined}>{number(g.lag).padStart(12)}</Text>  {g.topics.join(', ')}
        </Text>
      ))}
    </Box>
  )
}

export interface PeekViewProps {
  topic: string
  records: FeedRecord[] | undefined
  width: number
}

/** The newest records of one topic, newest last, as `partition/offset key=value`. */
export function PeekView({topic, records, width}: PeekViewProps) {
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>{topic}</Text>
        <Text dimColor> · newest records, live · Esc back · q quit</Text>
      </Text>
      {records === undefined ? <Text dimColor>reading…</Text> : null}
      {records?.length === 0 ? <Text dimColor>no records</Text> : null}
      {records?.map((r) => {
        const where = `${r.partition}/${r.offset}`
        const key = r.key === null ? '' : `${printable(r.key, 24)}=`
        return (
          <Text key={where}>
            <Text dimColor>{where.padEnd(12)}</Text>
            <Text color="cyan">{key}</Text>
            {printable(r.value, Math.max(10, width - 14 - key.length))}
          </Text>
        )
      })}
    </Box>
  )
}

export interface TopAppProps {
  /** Takes a snapshot, given the previous one (for rates). */
  load: (previous: TopSnapshot | undefined) => Promise<TopSnapshot>
  /** The newest records of a topic. */
  peek: (topic: string) => Promise<FeedRecord[]>
  intervalMs: number
  width?: number
}

/** The live dashboard: refreshes every interval; arrow keys select, Enter peeks, Esc returns, q quits. */
export function TopApp({load, peek, intervalMs, width = 100}: TopAppProps) {
  const {exit} = useApp()
  const [snapshot, setSnapshot] = useState<TopSnapshot>()
  const [selected, setSelected] = useState(0)
  // The input handler reads the selection and the peeked topic from refs: ink swaps in a handler that
  // sees new state only after an effect, so a quick ↓ then Enter would otherwise open the topic selected
  // before, and a quick Enter then Esc would leave the peek open.
  const selection = useRef(0)
  const [peeking, setPeekingState] = useState<string>()
  const peekingNow = useRef<string | undefined>(undefined)
  const setPeeking = (topic: string | undefined) => setPeekingState((peekingNow.current = topic))
  const [peeked, setPeeked] = useState<FeedRecord[]>()
  const [error, setError] = useState<string>()
  const latest = useRef<TopSnapshot | undefined>(undefined)

  useEffect(() => {
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    const tick = async () => {
      try {
        if (peeking) {
          const records = await peek(peeking)
          // A peek that answers after Esc must not show its records in the next peek.
          if (!stopped) setPeeked(records)
        } else {
          const next = await load(latest.current)
          latest.current = next
          if (!stopped) setSnapshot(next)
        }
        if (!stopped) setError(undefined)
      } catch (failure) {
        if (!stopped) setError((failure as Error).message)
      }
      if (!stopped) timer = setTimeout(tick, intervalMs)
    }
    void tick()
    return () => {
      stopped = true
      if (timer) clearTimeout(timer)
    }
  }, [peeking, intervalMs, load, peek])

  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) {
      exit()
      return
    }
    if (peekingNow.current) {
      if (key.escape || key.backspace || key.delete || key.leftArrow) {
        setPeeking(undefined)
        setPeeked(undefined)
      }
      return
    }
    const topics = latest.current?.topics ?? []
    const select = (index: number) => setSelected((selection.current = Math.max(0, Math.min(index, topics.length - 1))))
    if (key.upArrow) select(selection.current - 1)
    if (key.downArrow) select(selection.current + 1)
    if (key.return && topics.length > 0) setPeeking(topics[Math.min(selection.current, topics.length - 1)]!.name)
  })

  if (peeking) return <PeekView topic={peeking} records={peeked} width={width} />
  return <TopView snapshot={snapshot} selected={Math.min(selected, Math.max(0, (snapshot?.topics.length ?? 1) - 1))} error={error} intervalMs={intervalMs} />
}

/** Draws the dashboard on the terminal until the user quits. */
export async function runTop(props: TopAppProps): Promise<void> {
  const {render} = await import('ink')
  const app = render(<TopApp {...props} />, {exitOnCtrlC: true})
  await app.waitUntilExit()
}
