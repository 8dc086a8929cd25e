import {UsageError} from '../core/errors.js'

/**
 * Turns the escapes people type for delimiters and format strings into bytes: \n \r \t \0 \\ and \xNN.
 * Everything else is taken literally as UTF-8.
 */
export function unescapeBytes(text: string, what: string): Buffer {
  const out: number[] = []
  const literal = Buffer.from(text, 'utf8')
  for (let i = 0; i < literal.length; i++) {
    const byte = literal[i]!
    if (byte !== 0x5c || i === literal.length - 1) {
      out.push(byte)
      continue
    }
    const next = String.fromCharCode(literal[++i]!)
    switch (next) {
      case 'n':
        out.push(0x0a)
        break
      case 'r':
        out.push(0x0d)
        break
      case 't':
        out.push(0x09)
        break
      case '0':
        out.push(0x00)
        break
      case '\\':
        out.push(0x5c)
        break
      case 'x': {
        const hex = literal.toString('latin1', i + 1, i + 3)
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new UsageError(`${what} has a bad escape '\\x${hex}'`, 'write bytes as \\xNN, e.g. \\x1e')
        out.push(Number.parseInt(hex, 16))
        i += 2
        break
      }
      default:
        out.push(0x5c, literal[i]!)
    }
  }
  return Buffer.from(out)
}

export function parseDelimiter(text: string, what: string): Buffer {
  const bytes = unescapeBytes(text, what)
  if (bytes.length === 0) {
    const flag = what === '--key-delimiter' ? '-K' : '-D'
    throw new UsageError(`${what} is empty`, `give at least one byte, e.g. ${flag} "${flag === '-K' ? ':' : '\\n'}" or ${flag} "|"`)
  }
  return bytes
}
