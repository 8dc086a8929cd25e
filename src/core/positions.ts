import {UsageError} from './errors.js'
import {parseAbsoluteTime} from './timestamps.js'
import {tryParseDuration} from './units.js'

/**
 * A place in a partition, as written on the command line (--from, --until, group resets). One grammar
 * everywhere:
 *
 *   earliest | start | beginning   the first offset still stored
 *   latest | end                   the offset the next record will get
 *   N                              absolute offset N
 *   +N                             N records after the start
 *   -N                             N records before the end
 *   @TIME                          the first record whose timestamp is at or after TIME, where TIME is
 *                                  RFC 3339 (2026-11-25T10:00:00Z), a date (2026-11-25, UTC), epoch
 *                                  milliseconds (1764064800000), or a signed duration from now (@-10m, @+1h)
 */
export type Position =
  | {kind: 'earliest'}
  | {kind: 'latest'}
  | {kind: 'offset'; offset: number}
  | {kind: 'after-start'; count: number}
  | {kind: 'before-end'; count: number}
  | {kind: 'time'; timestamp: number}

export const POSITION_HELP =
  'earliest, latest, N (offset), +N (N after the start), -N (N before the end), @TIME (RFC 3339, YYYY-MM-DD, epoch ms) or @-DURATION (@-10m, @-1h30m)'

export function parsePosition(text: string, flag = 'position', now = Date.now()): Position {
  const spec = text.trim()
  const fail = (): never => {
    throw new UsageError(`${flag} '${text}' is not a position`, `use ${POSITION_HELP}`)
  }
  switch (spec.toLowerCase()) {
    case 'earliest':
    case 'start':
    case 'beginning':
    case 'oldest':
      return {kind: 'earliest'}
    case 'latest':
    case 'end':
    case 'newest':
      return {kind: 'latest'}
  }
  if (/^\d+$/.test(spec)) return {kind: 'offset', offset: safeInteger(spec, fail)}
  if (/^\+\d+$/.test(spec)) return {kind: 'after-start', count: safeInteger(spec.slice(1), fail)}
  if (/^-\d+$/.test(spec)) return {kind: 'before-end', count: safeInteger(spec.slice(1), fail)}
  if (spec.startsWith('@')) {
    const timestamp = parseTime(spec.slice(1), now)
    if (timestamp === undefined) fail()
    return {kind: 'time', timestamp: timestamp!}
  }
  return fail()
}

function safeInteger(digits: string, fail: () => never): number {
  const n = Number(digits)
  if (!Number.isSafeInteger(n)) fail()
  return n
}

/** Epoch ms for an absolute time (see timestamps.ts) or a signed duration from now, or undefined. */
export function parseTime(text: string, now = Date.now()): number | undefined {
  if (text.startsWith('-') || text.startsWith('+')) {
    const ms = tryParseDuration(text.slice(1))
    if (ms === undefined) return undefined
    return text.startsWith('-') ? now - ms : now + ms
  }
  return parseAbsoluteTime(text)
}

/**
 * Refuses a --from/--until pair of the same kind that cannot hold a record (--from 8 --until 5): a read
 * that prints nothing and succeeds would hide the mistake.
 */
export function checkRange(from: Position, until: Position): void {
  const later = (() => {
    if (from.kind === 'offset' && until.kind === 'offset') return from.offset > until.offset
    if (from.kind === 'after-start' && until.kind === 'after-start') return from.count > until.count
    if (from.kind === 'before-end' && until.kind === 'before-end') return from.count < until.count
    if (from.kind === 'time' && until.kind === 'time') return from.timestamp > until.timestamp
    return from.kind === 'latest' && until.kind === 'earliest'
  })()
  if (later) throw new UsageError('--from is after --until, so nothing lies between them', '--until is where the read stops (exclusive): give a later place than --from')
}

/** The offsets a partition holds now: records live at [start, end). */
export interface PartitionRange {
  start: number
  end: number
}

/**
 * Turns a position into an offset within [start, end]. `offsetForTime` answers the first offset whose
 * timestamp is >= ts (end when there is none), as Kafka's ListOffsets does.
 */
export async function resolvePosition(
  position: Position,
  range: PartitionRange,
  offsetForTime: (timestamp: number) => Promise<number>,
): Promise<number> {
  const clamp = (offset: number) => Math.min(Math.max(offset, range.start), range.end)
  switch (position.kind) {
    case 'earliest':
      return range.start
    case 'latest':
      return range.end
    case 'offset':
      return clamp(position.offset)
    case 'after-start':
      return clamp(range.start + position.count)
    case 'before-end':
      return clamp(range.end - position.count)
    case 'time':
      return clamp(await offsetForTime(position.timestamp))
  }
}
