import {isUtf8} from 'node:buffer'
import {ArrayRecordBatch, type FeedRecord, type Header} from '../core/record.js'
import type {DiffField, DiffResult, Difference} from './diff.js'
import {encodeEnvelope} from '../io/json-envelope.js'

/**
 * What `spool diff` prints. Text, in diff(1)'s spirit: `<` a record of A, `>` one of B, `~` a record
 * both have that differs (followed by both), each record on one line; then one summary line. Bytes are
 * shown as JSON strings when they are UTF-8 (so a newline or a control byte cannot break a line) and as
 * base64: otherwise, as the JSON envelope does.
 */
export function diffText(result: DiffResult): string {
  let text = ''
  const shown = new Set<DiffField>(result.fields)
  for (const difference of result.differences) {
    if (difference.kind === 'changed') {
      const what = difference.fields?.length ? ` (${difference.fields.join(', ')})` : ''
      const a = difference.a!
      text += result.mode === 'offset' ? `~ p${a.partition}@${a.offset}${what}\n` : `~ key=${bytesText(a.key)}${what}\n`
    }
    if (difference.a) text += `< ${recordText(difference.a, shown)}${copiesText(difference, 'B')}\n`
    if (difference.b) text += `> ${recordText(difference.b, shown)}${copiesText(difference, 'A')}\n`
  }
  return `${text}${summaryText(result)}\n`
}

function copiesText(difference: Difference, other: string): string {
  return difference.copies !== undefined && difference.copies > 1 ? ` (${difference.copies} more copies than in ${other})` : ''
}

/** Position, then the key (what identifies a record to a reader), then the compared fields. */
function recordText(record: FeedRecord, fields: Set<DiffField>): string {
  let text = `p${record.partition}@${record.offset} key=${bytesText(record.key)}`
  if (fields.has('value')) text += ` value=${bytesText(record.value)}`
  if (fields.has('headers')) text += ` headers=[${record.headers.map(headerText).join(',')}]`
  if (fields.has('timestamp')) text += ` timestamp=${record.timestamp}`
  return text
}

const headerText = (header: Header) => `${JSON.stringify(header.key)}=${bytesText(header.value)}`

export function bytesText(bytes: Buffer | null): string {
  if (bytes === null) return 'null'
  return isUtf8(bytes) ? JSON.stringify(bytes.toString('utf8')) : `base64:${bytes.toString('base64')}`
}

function summaryText(result: DiffResult): string {
  const {equal, onlyA, onlyB, changed} = result.summary
  const partitions = result.a.partitions === result.b.partitions ? '' : `; partitions: A ${result.a.partitions}, B ${result.b.partitions}`
  const unkeyed = result.a.unkeyed || result.b.unkeyed ? `; without a key (left out): A ${result.a.unkeyed}, B ${result.b.unkeyed}` : ''
  const differences = onlyA + onlyB + changed
  // A record of --by value shown once stands for all its copies in surplus.
  const covered = result.differences.reduce((sum, d) => sum + (d.copies ?? 1), 0)
  const shown = differences > covered ? `; first ${result.differences.length} shown` : ''
  const counts = `${equal} equal, ${onlyA} only in A, ${onlyB} only in B, ${changed} changed`
  return `${result.same ? 'equal' : 'different'} (by ${result.mode}): ${counts}${partitions}${unkeyed}${shown}`
}

/** --json: one document, the records in the envelope `consume --json` prints. */
export function diffJson(result: DiffResult, names: {a: string; b: string}): string {
  const envelope = (record: FeedRecord | undefined) =>
    record && JSON.parse(encodeEnvelope(new ArrayRecordBatch(record.topic, record.partition, [record]), 0))
  const side = (name: string, report: DiffResult['a']) => ({topic: name, partitions: report.partitions, records: report.records, ...(report.unkeyed === undefined ? {} : {unkeyed: report.unkeyed})})
  const document = {
    same: result.same,
    by: result.mode,
    fields: result.fields,
    a: side(names.a, result.a),
    b: side(names.b, result.b),
    summary: {equal: result.summary.equal, only_a: result.summary.onlyA, only_b: result.summary.onlyB, changed: result.summary.changed},
    differences: result.differences.map((d) => ({
      kind: d.kind,
      ...(d.fields ? {fields: d.fields} : {}),
      ...(d.copies === undefined ? {} : {copies: d.copies}),
      a: envelope(d.a) ?? null,
      b: envelope(d.b) ?? null,
    })),
  }
  return `${JSON.stringify(document, null, 2)}\n`
}
