import {UsageError} from './errors.js'

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y

/** Parses "500ms", "10s", "1h30m", "7d"; returns milliseconds, or undefined when the text is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  if (text.length === 0) return undefined
  let total = 0
  DURATION_PART.lastIndex = 0
  while (DURATION_PART.lastIndex < text.length) {
    const at = DURATION_PART.lastIndex
    const match = DURATION_PART.exec(text)
    if (!match || match.index !== at) return undefined
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!
  }
  return Math.round(total)
}

/** A retention of no limit in topic changes (`--retention forever`): Kafka's -1. */
export const NO_LIMIT = -1

export function parseDuration(text: string, what: string): number {
  const ms = tryParseDuration(text.trim())
  if (ms === undefined)
    throw new UsageError(`${what} '${text}' is not a duration`, 'use a number with a unit: 500ms, 10s, 5m, 2h, 7d, 1w, or 1h30m')
  if (!Number.isSafeInteger(ms)) throw new UsageError(`${what} '${text}' is too long`, 'the longest is about 285,000 years (2^53 ms); leave it out to keep records forever')
  return ms
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
}

/** Parses "1048576", "512KiB", "1MB", "1.5GiB" into bytes. */
export function parseSize(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined
  if (!match || unit === undefined)
    throw new UsageError(`${what} '${text}' is not a size`, 'use bytes or a unit: 512KiB, 1MiB, 10MB, 1GB')
  const bytes = Math.round(Number(match[1]) * unit)
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${what} '${text}' is too large`, 'the largest is 2^53 bytes (8 PiB)')
  return bytes
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = -1
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  return `${ms}ms`
}

const RATE_UNITS: Record<string, number> = {'': 1, s: 1, sec: 1, m: 1 / 60, min: 1 / 60, h: 1 / 3600}

/** Parses a rate, "500/s", "500" (per second), "600/m", "3600/h", into records per second. */
export function parseRate(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([a-z]+))?\s*$/i.exec(text)
  const unit = match ? RATE_UNITS[(match[2] ?? '').toLowerCase()] : undefined
  const perSecond = match && unit !== undefined ? Number(match[1]) * unit : Number.NaN
  if (!(perSecond > 0) || !Number.isFinite(perSecond))
    throw new UsageError(`${what} '${text}' is not a rate`, 'use records per second or per minute, more than 0: 500/s, 500, 30/m, 3600/h')
  return perSecond
}
