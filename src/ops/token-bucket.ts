import type {Clock} from './replay.js'

/**
 * produce --rate N/s --burst B: a token bucket that fills at `perSecond`, one token per record, from
 * which at most `burst` records are taken at once. It starts full, so the first B records go at once;
 * after that they go as the tokens come, in small slices, so the records of a second are spread over it
 * rather than sent in one lump.
 *
 * The bucket is capped at B only after the caller says the input was idle (markIdle), and at the start:
 * an idle producer saves up at most one burst. While records wait, time lost to a stalled process (a busy machine, a slow
 * commit, the read of the next input chunk) is caught up in takes of at most B, so the average rate
 * holds instead of drifting low.
 */
export class TokenBucket {
  private tokens: number
  private last: number
  /** The next refill caps the bucket at a burst: nothing was sent since the input went idle (or ever). */
  private idle = true

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
    this.tokens += ((now - this.last) * this.perSecond) / 1000
    if (this.idle) this.tokens = Math.min(this.burst, this.tokens)
    this.last = now
    return now
  }

  /**
   * The input was idle (nothing waited to be sent): until records are taken again, the bucket holds one
   * burst at most, however long it waits.
   */
  markIdle(): void {
    this.idle = true
  }

  /** Takes as many whole tokens as there are, up to `wanted` and at most a burst; returns how many. */
  take(wanted: number): number {
    this.refill()
    const taken = Math.min(wanted, this.burst, Math.floor(this.tokens))
    this.tokens -= taken
    if (taken > 0) this.idle = false
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
/** Input that took longer than this to come was idle, not just the read of the next chunk. */
export const IDLE_INPUT_MS = 20
/** The default --burst: this long at the rate, and never a 1 s lump. */
export const DEFAULT_BURST_MS = 50

export function defaultBurst(perSecond: number): number {
  return Math.max(1, Math.round((perSecond * DEFAULT_BURST_MS) / 1000))
}
