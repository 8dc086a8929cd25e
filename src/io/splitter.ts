/**
 * Splits a byte stream into records on a delimiter of one or more bytes, without decoding anything.
 * Records are zero-copy views of the input chunks except where a record straddles chunks. A record that
 * grows past `maxBytes` is no longer kept: the splitter only counts on to its end, so that the report
 * gives its whole size, and one endless line cannot exhaust memory (past SKIP_LIMIT it reports "at least").
 */
const SKIP_LIMIT = 1 << 30

export class DelimiterSplitter {
  /** Pieces of the record that began in an earlier chunk. */
  private carry: Buffer[] = []
  private carryBytes = 0
  /** 1-based number of the next record. */
  record = 1
  /** Bytes counted so far of an oversized record whose end has not been read yet. */
  private skipped: number | undefined

  constructor(
    private readonly delimiter: Buffer,
    private readonly maxBytes: number,
    /** Bytes [start, end) of `chunk`: a range rather than a view, which a caller that only reads it need not make. */
    private readonly onRecord: (chunk: Buffer, start: number, end: number, record: number) => void,
    private readonly onOversized: (record: number, bytes: number, atLeast?: boolean) => never,
    /** The caller reuses each chunk's buffer for the next: a record's start left over is copied, not kept as a view. */
    private readonly chunksReused = false,
  ) {}

  push(chunk: Buffer): void {
    const delimiter = this.delimiter
    const width = delimiter.length
    if (this.skipped !== undefined) {
      // Delimiters of several bytes that straddle chunks are not looked for here: the size is then off
      // by less than a delimiter, and the record is refused either way.
      const at = chunk.indexOf(delimiter)
      if (at >= 0) this.onOversized(this.record, this.skipped + at)
      this.skipped += chunk.length
      if (this.skipped > SKIP_LIMIT) this.onOversized(this.record, this.skipped, true)
      return
    }
    let start = 0
    if (this.carryBytes > 0 && width > 1) {
      // A delimiter of several bytes may begin at the end of the carry and finish in this chunk.
      if (this.carry[this.carry.length - 1]!.length < width - 1 && this.carry.length > 1)
        this.carry = [Buffer.concat(this.carry, this.carryBytes)]
      const tail = this.carry[this.carry.length - 1]!
      const seam = Buffer.concat([tail.subarray(Math.max(0, tail.length - (width - 1))), chunk.subarray(0, width - 1)])
      const at = seam.indexOf(delimiter)
      const tailPart = Math.min(tail.length, width - 1)
      if (at >= 0 && at < tailPart) {
        const inTail = tailPart - at
        this.carry[this.carry.length - 1] = tail.subarray(0, tail.length - inTail)
        this.carryBytes -= inTail
        this.emitCarry(Buffer.alloc(0))
        start = width - inTail
      }
    }
    const single = width === 1 ? delimiter[0]! : -1
    for (;;) {
      const at = single >= 0 ? chunk.indexOf(single, start) : chunk.indexOf(delimiter, start)
      if (at < 0) break
      if (this.carryBytes > 0) this.emitCarry(chunk.subarray(start, at))
      else {
        if (at - start > this.maxBytes) this.onOversized(this.record, at - start)
        this.onRecord(chunk, start, at, this.record++)
      }
      start = at + width
    }
    if (start < chunk.length) {
      this.carry.push(this.chunksReused ? Buffer.from(chunk.subarray(start)) : chunk.subarray(start))
      this.carryBytes += chunk.length - start
      if (this.carryBytes > this.maxBytes) {
        this.skipped = this.carryBytes
        this.carry = []
        this.carryBytes = 0
      }
    }
  }

  private emitCarry(last: Buffer): void {
    const bytes = this.carryBytes + last.length
    if (bytes > this.maxBytes) this.onOversized(this.record, bytes)
    const whole = Buffer.concat([...this.carry, last], bytes)
    this.carry = []
    this.carryBytes = 0
    this.onRecord(whole, 0, whole.length, this.record++)
  }

  /** Bytes read after the last delimiter: a final record without its delimiter. */
  get pendingBytes(): number {
    return this.carryBytes
  }

  /** Emits the final record when the input did not end with a delimiter. */
  end(): void {
    if (this.skipped !== undefined) this.onOversized(this.record, this.skipped)
    if (this.carryBytes > 0) this.emitCarry(Buffer.alloc(0))
  }
}
