/**
 * The absolute times spool accepts, in envelopes and in @TIME positions, and nothing else:
 *
 *   1764064800000                 epoch milliseconds
 *   2026-11-25T10:00:00Z          RFC 3339 with a zone (Z or ±HH:MM; seconds and fractions optional,
 *   2026-11-25 10:00:00+01:00     a space instead of T allowed)
 *   2026-11-25                    a date: midnight UTC
 *
 * A time without a zone would mean different instants on different machines, and Date.parse rolls
 * impossible dates over (2026-02-30 becomes March 2) and reads "1" as 2001: both are refused here.
 */
export const ABSOLUTE_TIME_HELP = 'epoch milliseconds, RFC 3339 with a zone (2026-11-25T10:00:00Z) or a UTC date (2026-11-25)'

/**
 * The latest time a record may carry (+275760-09-13, epoch 8,640,000,000,000,000 ms): the last instant a
 * JavaScript Date can show. A later one could be stored but not printed as a time (topic describe, count
 * --by), so envelopes and positions refuse it.
 */
export const LATEST_TIME = 8_640_000_000_000_000

/** A time as RFC 3339 in UTC; epoch milliseconds past what a Date can show (another client's record in Kafka). */
export function isoTime(ms: number): string {
  return ms >= -LATEST_TIME && ms <= LATEST_TIME ? new Date(ms).toISOString() : String(ms)
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2}))?$/

export function parseAbsoluteTime(text: string): number | undefined {
  if (/^\d{1,16}$/.test(text)) {
    const ms = Number(text)
    return ms <= LATEST_TIME ? ms : undefined
  }
  const match = RFC3339.exec(text)
  if (!match) return undefined
  const [, y, mo, d, h, mi, s, fraction, zone] = match
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  // A date alone is midnight UTC; a time needs its zone.
  if (h === undefined) return utc(year, month, day, 0, 0, 0, 0)
  const hour = Number(h)
  const minute = Number(mi)
  const second = s === undefined ? 0 : Number(s)
  if (hour > 23 || minute > 59 || second > 59) return undefined
  let offsetMinutes = 0
  if (zone !== 'Z' && zone !== 'z') {
    const [oh, om] = zone!.slice(1).split(':').map(Number) as [number, number]
    if (oh > 23 || om > 59) return undefined
    offsetMinutes = (zone!.startsWith('-') ? -1 : 1) * (oh * 60 + om)
  }
  const ms = fraction === undefined ? 0 : Math.floor(Number(`0${fraction}`) * 1000)
  return utc(year, month, day, hour, minute, second, ms) - offsetMinutes * 60_000
}

/** Date.UTC without its reading of years 0-99 as 1900-1999. */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, ms)
  return date.getTime()
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month, 0)
  return date.getUTCDate()
}
