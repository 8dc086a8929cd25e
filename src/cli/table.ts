import {paint} from './colour.js'

/** An aligned plain-text table for people; scripts use --json. Numbers are right-aligned; the header is bold on a colour terminal. */
export function renderTable(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((row) => row.map(String))
  const numeric = headers.map((_, c) => rows.length > 0 && rows.every((row) => typeof row[c] === 'number'))
  const widths = headers.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)))
  const line = (row: string[]) =>
    row
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd()
  return [paint.bold(line(headers)), ...cells.map(line)].join('\n') + '\n'
}
