/**
 * A growing buffer of UTF-8 JSON text. --decode writes a whole batch's decoded keys or values into one of
 * these: a string per record (and its UTF-8 encoding on the way out) cost more than decoding the record.
 */
export class JsonBytes {
  buf: Buffer
  pos = 0

  constructor(bytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(bytes)
  }

  /** Makes room for `bytes` more at `pos`; returns the buffer to write them into. */
  room(bytes: number): Buffer {
    if (this.pos + bytes > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes))
      this.buf.copy(bigger, 0, 0, this.pos)
      this.buf = bigger
    }
    return this.buf
  }

  writeString(text: string): void {
    // A JS string of n UTF-16 units takes at most 3n bytes of UTF-8.
    const buf = this.room(text.length * 3)
    this.pos += buf.write(text, this.pos, 'utf8')
  }

  /** A string of ASCII characters only (number texts): a loop is faster than a native call for a few bytes. */
  writeAscii(text: string): void {
    const buf = this.room(text.length)
    let pos = this.pos
    for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i)
    this.pos = pos
  }

  /** A safe integer's decimal digits, without the string in between. */
  writeInteger(value: number): void {
    const buf = this.room(17)
    let pos = this.pos
    if (value < 0) {
      buf[pos++] = 0x2d
      value = -value
    }
    let digits = 1
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++
    pos += digits
    this.pos = pos
    // Below 2^31 in 32-bit integer arithmetic, which is several times faster than in doubles.
    while (value >= 2147483648) {
      buf[--pos] = 0x30 + (value % 10)
      value = Math.floor(value / 10)
    }
    let small = value | 0
    do {
      const tenth = (small / 10) | 0
      buf[--pos] = 0x30 + small - tenth * 10
      small = tenth
    } while (small > 0)
  }

  /**
   * A finite number as JavaScript prints it (String(value)). Integers, and numbers with at most three
   * decimals that a small integer over 10, 100 or 1000 gives back exactly, are written digit by digit:
   * such a decimal of under 2^31 units is the shortest that reads back as the value (any other decimal
   * of as few digits lies at least 0.001 away, far more than the value's rounding step), which is what
   * String() prints. Everything else goes through String().
   */
  writeNumber(value: number): void {
    if (Number.isInteger(value)) {
      if (value <= 9007199254740991 && value >= -9007199254740991) return this.writeInteger(value)
    } else {
      for (let places = 1, scale = 10; places <= 3; places++, scale *= 10) {
        const units = value * scale
        if (!Number.isInteger(units)) continue
        if (units >= 2147483648 || units <= -2147483648 || units % 10 === 0 || units / scale !== value) break
        return this.writeDecimal(units, places, scale)
      }
    }
    this.writeAscii('' + value)
  }

  /** units / scale (scale = 10^places), with all `places` decimals. */
  private writeDecimal(units: number, places: number, scale: number): void {
    if (units < 0) {
      this.writeByte(0x2d)
      units = -units
    }
    let fraction = units % scale
    this.writeInteger((units - fraction) / scale)
    const buf = this.room(places + 1)
    buf[this.pos++] = 0x2e
    let pos = this.pos + places
    this.pos = pos
    for (let i = 0; i < places; i++) {
      buf[--pos] = 0x30 + (fraction % 10)
      fraction = Math.floor(fraction / 10)
    }
  }

  writeBytes(bytes: Uint8Array): void {
    const buf = this.room(bytes.length)
    let pos = this.pos
    for (let i = 0; i < bytes.length; i++) buf[pos++] = bytes[i]!
    this.pos = pos
  }

  writeByte(byte: number): void {
    this.room(1)[this.pos++] = byte
  }

  /** The text written from `start` on. */
  text(start = 0): string {
    return this.buf.toString('utf8', start, this.pos)
  }
}
