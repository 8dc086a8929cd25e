import type {Clock} from './replay.js'

/**
 * produce --rate N/s --burst B: a token bucket that fills at `perSecond` up to `burst` tokens, one token
 * per record. It starts full, so at most `burst` records go at once; after that they go as the tokens
 * come, in small slices, so the records of a second are spread over it rather than sent in one lump.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.tokens = burst
    this.last = clock.now()
  }

  private refill(): number {
    const now = this.clock.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000)
    this.last = now
    return now
  }

  /** Takes as many whole tokens as there are, up to `wanted`; returns how many it took. */
  take(wanted: number): number {
    this.refill()
    const taken = Math.min(wanted, Math.floor(this.tokens))
    this.tokens -= taken
    return taken
  }

  /** The clock time at which `count` tokens (at most a burst) will be there. */
  readyAt(count: number): number {
    const now = this.refill()
    const missing = Math.min(count, this.burst) - this.tokens
    return missing <= 0 ? now : now + (missing * 1000) / this.perSecond
  }
}

/** How long a slice of paced records covers: commits at most about this often (200 per second). */
export const SLICE_MS = 5
/** The default --burst: this long at the rate, so a slow commit does not cost rate, and never a 1 s lump. */
export const DEFAULT_BURST_MS = 50

export function defaultBurst(perSecond: number): number {
  return Math.max(1, Math.round((perSecond * DEFAULT_BURST_MS) / 1000))
}
