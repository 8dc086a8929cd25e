import {hash} from 'node:crypto'
import type {Assignment, Backend, TopicInfo} from '../core/backend.js'
import {UsageError} from '../core/errors.js'
import type {Position} from '../core/positions.js'
import {type FeedRecord, type Header, type RecordBatch, recordAt} from '../core/record.js'
import {validateTopicName} from '../core/topic-name.js'
import {planRead} from './read-plan.js'

/**
 * `spool diff A B`: two bounded reads compared in one of three ways.
 *
 * - offset (the default): partition by partition, both sides walked by offset in lockstep, one batch per
 *   side in memory at a time; a record at an offset only one side has is only in that side.
 * - key: the latest record per key on each side (what a compacted topic keeps; a null value is a
 *   tombstone, so the key is absent), compared by a digest of the chosen fields: memory per distinct key.
 * - value: the multisets of records, order ignored: a count per digest of the chosen fields (A adds, B
 *   subtracts), memory per distinct record.
 *
 * Digests are MD5 (128 bits; a collision is not a concern for comparing feeds one controls, and MD5 is
 * Node's fastest 128-bit hash). Whole records are kept only for the first N differences: the offset
 * mode keeps them as it meets them; the key mode reads them again by their positions at the end; the
 * value mode reads the sides again, up to the first N records of each that are in surplus.
 */
export type DiffMode = 'offset' | 'key' | 'value'

export const DIFF_FIELDS = ['key', 'value', 'headers', 'timestamp', 'partition'] as const
export type DiffField = (typeof DIFF_FIELDS)[number]
/** What a copy (pipe, consume --json | produce --input json) keeps besides the partition. */
export const DEFAULT_DIFF_FIELDS: DiffField[] = ['key', 'value', 'headers', 'timestamp']

export function parseDiffFields(text: string): DiffField[] {
  const fields = new Set<DiffField>()
  for (const item of text.split(',').map((s) => s.trim())) {
    if (!(DIFF_FIELDS as readonly string[]).includes(item))
      throw new UsageError(`--fields '${item}' is not a record field`, `use a comma list of ${DIFF_FIELDS.join(', ')}`)
    fields.add(item as DiffField)
  }
  return DIFF_FIELDS.filter((f) => fields.has(f))
}

export interface DiffSide {
  backend: Backend
  topic: string
}

export interface DiffOptions {
  mode: DiffMode
  fields: DiffField[]
  /** How many differences to keep whole (the rest are only counted). */
  limit: number
  partitions?: number[]
  from: Position
  until?: Position
  signal: AbortSignal
}

export type DifferenceKind = 'only-a' | 'only-b' | 'changed'

export interface Difference {
  kind: DifferenceKind
  a?: FeedRecord
  b?: FeedRecord
  /** changed: the compared fields that differ (offset and key modes; in value mode a digest says only that something does). */
  fields?: DiffField[]
  /** value mode: how many more copies of this record the side holds than the other. */
  copies?: number
}

export interface DiffSummary {
  equal: number
  onlyA: number
  onlyB: number
  changed: number
}

export interface SideReport {
  partitions: number
  /** Records read from this side. */
  records: number
  /** key mode: records without a key, which no compacted topic keeps, left out. */
  unkeyed?: number
}

export interface DiffResult {
  same: boolean
  mode: DiffMode
  fields: DiffField[]
  a: SideReport
  b: SideReport
  summary: DiffSummary
  /** The first `limit` differences, in partition and offset order. */
  differences: Difference[]
}

export async function diffTopics(a: DiffSide, b: DiffSide, options: DiffOptions): Promise<DiffResult> {
  // Both topics are looked up first, so a missing one fails before anything is read.
  validateTopicName(a.topic)
  validateTopicName(b.topic)
  const infoA = await a.backend.describeTopic(a.topic)
  const infoB = await b.backend.describeTopic(b.topic)
  const plan = (side: DiffSide, info: TopicInfo) =>
    planRead(side.backend, {
      topics: [side.topic],
      // A partition number only one side has is read from that side alone.
      partitions: options.partitions?.filter((p) => p < info.partitions),
      from: options.from,
      until: options.until,
      follow: false,
    })
  if (options.partitions)
    for (const p of options.partitions)
      if (p >= infoA.partitions && p >= infoB.partitions)
        throw new UsageError(`neither topic has partition ${p}`, `'${a.topic}' has ${infoA.partitions}, '${b.topic}' has ${infoB.partitions}`)
  const sides: Sides = {
    a: {...a, assignments: await plan(a, infoA), partitions: infoA.partitions},
    b: {...b, assignments: await plan(b, infoB), partitions: infoB.partitions},
  }
  const run = options.mode === 'offset' ? diffByOffset : options.mode === 'key' ? diffByKey : diffByValue
  const result = await run(sides, options)
  // By offset, a partition compared that only one side has is a difference, even an empty one.
  const compared = options.partitions ?? [...Array(Math.max(infoA.partitions, infoB.partitions)).keys()]
  if (options.mode === 'offset' && compared.some((p) => p >= Math.min(infoA.partitions, infoB.partitions))) result.same = false
  return result
}

interface PlannedSide extends DiffSide {
  assignments: Assignment[]
  partitions: number
}

interface Sides {
  a: PlannedSide
  b: PlannedSide
}

function emptyResult(sides: Sides, options: DiffOptions): DiffResult {
  return {
    same: true,
    mode: options.mode,
    fields: options.fields,
    a: {partitions: sides.a.partitions, records: 0},
    b: {partitions: sides.b.partitions, records: 0},
    summary: {equal: 0, onlyA: 0, onlyB: 0, changed: 0},
    differences: [],
  }
}

function finish(result: DiffResult): DiffResult {
  const {onlyA, onlyB, changed} = result.summary
  result.same = onlyA + onlyB + changed === 0
  return result
}

/** One side's records of one partition, a batch at a time. */
class PartitionCursor {
  batch: RecordBatch | undefined
  index = 0
  private readonly batches: AsyncIterator<RecordBatch> | undefined

  constructor(backend: Backend, assignment: Assignment | undefined, signal: AbortSignal) {
    this.batches = assignment ? backend.read([assignment], {signal})[Symbol.asyncIterator]() : undefined
  }

  /** True when a record is at `index`; reads the next batch when the current one is used up. */
  async ready(): Promise<boolean> {
    while (!this.batch || this.index >= this.batch.count) {
      const next = await this.batches?.next()
      if (!next || next.done) {
        this.batch = undefined
        return false
      }
      this.batch = next.value
      this.index = 0
    }
    return true
  }

  async close(): Promise<void> {
    await this.batches?.return?.()
  }
}

async function diffByOffset(sides: Sides, options: DiffOptions): Promise<DiffResult> {
  const result = emptyResult(sides, options)
  const {summary, differences} = result
  const keep = (difference: Difference) => {
    if (differences.length < options.limit) differences.push(difference)
  }
  const partitions = [...new Set([...sides.a.assignments, ...sides.b.assignments].map((x) => x.partition))].sort((x, y) => x - y)
  const compare = fieldComparer(options.fields)
  for (const partition of partitions) {
    const a = new PartitionCursor(sides.a.backend, sides.a.assignments.find((x) => x.partition === partition), options.signal)
    const b = new PartitionCursor(sides.b.backend, sides.b.assignments.find((x) => x.partition === partition), options.signal)
    try {
      for (;;) {
        const hasA = (a.batch !== undefined && a.index < a.batch.count) || (await a.ready())
        const hasB = (b.batch !== undefined && b.index < b.batch.count) || (await b.ready())
        if (!hasA && !hasB) break
        const batchA = a.batch!
        const batchB = b.batch!
        // Within the two current batches no await: a record costs a comparison, not a promise.
        if (hasA && hasB) {
          while (a.index < batchA.count && b.index < batchB.count) {
            const offsetA = batchA.offsetAt(a.index)
            const offsetB = batchB.offsetAt(b.index)
            if (offsetA < offsetB) {
              summary.onlyA++
              keep({kind: 'only-a', a: recordAt(batchA, a.index++)})
            } else if (offsetB < offsetA) {
              summary.onlyB++
              keep({kind: 'only-b', b: recordAt(batchB, b.index++)})
            } else {
              const changed = compare(batchA, a.index, batchB, b.index)
              if (changed.length === 0) summary.equal++
              else {
                summary.changed++
                keep({kind: 'changed', a: recordAt(batchA, a.index), b: recordAt(batchB, b.index), fields: changed})
              }
              a.index++
              b.index++
            }
          }
        } else if (hasA) {
          summary.onlyA += batchA.count - a.index
          while (a.index < batchA.count && differences.length < options.limit) keep({kind: 'only-a', a: recordAt(batchA, a.index++)})
          a.index = batchA.count
        } else {
          summary.onlyB += batchB.count - b.index
          while (b.index < batchB.count && differences.length < options.limit) keep({kind: 'only-b', b: recordAt(batchB, b.index++)})
          b.index = batchB.count
        }
      }
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  }
  result.a.records = summary.equal + summary.changed + summary.onlyA
  result.b.records = summary.equal + summary.changed + summary.onlyB
  return finish(result)
}

const NO_FIELDS: DiffField[] = []

/** The compared fields of two records that differ, byte for byte (headers as ordered name/value lists). */
function fieldComparer(fields: DiffField[]) {
  const want = new Set(fields)
  return (a: RecordBatch, i: number, b: RecordBatch, j: number): DiffField[] => {
    let differ: DiffField[] | undefined
    const mark = (field: DiffField) => (differ ??= []).push(field)
    if (want.has('key') && !sameBytes(a.keyAt(i), b.keyAt(j))) mark('key')
    if (want.has('value') && !sameBytes(a.valueAt(i), b.valueAt(j))) mark('value')
    if (want.has('headers') && !sameHeaders(a.headersAt(i), b.headersAt(j))) mark('headers')
    if (want.has('timestamp') && a.timestampAt(i) !== b.timestampAt(j)) mark('timestamp')
    // The partition is where both records were read from: equal by construction in this mode.
    return differ ?? NO_FIELDS
  }
}

function sameBytes(x: Buffer | null, y: Buffer | null): boolean {
  if (x === null || y === null) return x === y
  return x.length === y.length && x.equals(y)
}

function sameHeaders(x: Header[], y: Header[]): boolean {
  if (x.length !== y.length) return false
  for (let n = 0; n < x.length; n++) if (x[n]!.key !== y[n]!.key || !sameBytes(x[n]!.value, y[n]!.value)) return false
  return true
}

/**
 * A 128-bit digest of the chosen fields of a record, as a 16-character string (a Map key). Each field is
 * written length-first into one scratch buffer (null distinct from empty), then hashed once.
 */
class Digester {
  private scratch = Buffer.allocUnsafe(64 * 1024)
  private at = 0

  constructor(private readonly fields: DiffField[]) {}

  of(batch: RecordBatch, i: number, skipKey = false): string {
    this.at = 0
    for (const field of this.fields) {
      switch (field) {
        case 'key':
          if (!skipKey) this.bytes(batch.keyAt(i))
          break
        case 'value':
          this.bytes(batch.valueAt(i))
          break
        case 'headers': {
          const headers = batch.headersAt(i)
          this.number(headers.length)
          for (const header of headers) {
            this.bytes(Buffer.from(header.key))
            this.bytes(header.value)
          }
          break
        }
        case 'timestamp':
          this.number(batch.timestampAt(i))
          break
        case 'partition':
          this.number(batch.partition)
      }
    }
    return hash('md5', this.scratch.subarray(0, this.at), 'binary')
  }

  /**
   * A Map key for a record's key: a short key as itself (one Latin-1 character per byte, cheaper than a
   * hash), a longer one as its digest behind a character no Latin-1 string has, so the two never meet.
   */
  key(key: Buffer): string {
    return key.length <= 32 ? key.toString('latin1') : `\u0100${hash('md5', key, 'binary')}`
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.scratch.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.at + bytes))
    this.scratch.copy(grown, 0, 0, this.at)
    this.scratch = grown
  }

  private number(n: number): void {
    this.room(8)
    this.at = this.scratch.writeDoubleLE(n, this.at)
  }

  private bytes(bytes: Buffer | null): void {
    this.number(bytes === null ? -1 : bytes.length)
    if (bytes === null) return
    this.room(bytes.length)
    this.at += bytes.copy(this.scratch, this.at)
  }
}

/** Where a side's latest record of a key is, and the digest of its fields (null: a tombstone). */
interface Latest {
  partition: number
  offset: number
  timestamp: number
  digest: string | null
}

/**
 * One side's latest record of every key, in columns indexed by the key's slot: about 190 bytes a key
 * with the Map that gives the slots, where an object per key and side took about 400 (numbers beyond
 * 31 bits are boxed in objects, not in a Float64Array).
 *
 * Within a partition the highest offset wins (what compaction keeps). A key written to several
 * partitions (an explicit -p) has a latest record in each: the later timestamp wins, ties to the higher
 * partition. Partitions are read in ascending order, one at a time, so when a key turns up in a later
 * partition the winner of the earlier ones is set aside in `earlier` (a map that stays empty for keys
 * that keep to one partition, as keys chosen by the partitioner do).
 */
class LatestPerKey {
  private partition = new Int32Array(1024)
  private offset = new Float64Array(1024)
  private timestamp = new Float64Array(1024)
  /** undefined: the key was not seen on this side; null: its latest record so far is a tombstone. */
  private readonly digest: Array<string | null | undefined> = []
  private readonly earlier = new Map<number, Latest>()

  set(slot: number, partition: number, offset: number, timestamp: number, digest: string | null): void {
    while (slot >= this.partition.length) this.grow()
    while (this.digest.length <= slot) this.digest.push(undefined)
    const seen = this.digest[slot] !== undefined
    if (seen && this.partition[slot] !== partition) this.earlier.set(slot, winner(this.earlier.get(slot), this.at(slot)!))
    this.partition[slot] = partition
    this.offset[slot] = offset
    this.timestamp[slot] = timestamp
    this.digest[slot] = digest
  }

  /** The key's latest record over all partitions, or undefined where it is absent or a tombstone. */
  settled(slot: number): Latest | undefined {
    const current = this.at(slot)
    if (!current) return undefined
    const final = winner(this.earlier.get(slot), current)
    return final.digest === null ? undefined : final
  }

  private at(slot: number): Latest | undefined {
    const digest = this.digest[slot]
    if (digest === undefined) return undefined
    return {partition: this.partition[slot]!, offset: this.offset[slot]!, timestamp: this.timestamp[slot]!, digest}
  }

  private grow(): void {
    const size = this.partition.length * 2
    const partition = new Int32Array(size)
    partition.set(this.partition)
    const offset = new Float64Array(size)
    offset.set(this.offset)
    const timestamp = new Float64Array(size)
    timestamp.set(this.timestamp)
    this.partition = partition
    this.offset = offset
    this.timestamp = timestamp
  }
}

function winner(x: Latest | undefined, y: Latest): Latest {
  if (!x) return y
  return y.timestamp > x.timestamp || (y.timestamp === x.timestamp && y.partition > x.partition) ? y : x
}

async function* sideRecords(side: PlannedSide, signal: AbortSignal): AsyncGenerator<RecordBatch> {
  // One partition after another, ascending: deterministic, and what LatestPerKey relies on.
  for (const assignment of [...side.assignments].sort((x, y) => x.partition - y.partition)) yield* side.backend.read([assignment], {signal})
}

async function diffByKey(sides: Sides, options: DiffOptions): Promise<DiffResult> {
  const result = emptyResult(sides, options)
  const digester = new Digester(options.fields)
  // The slot of each key (by Digester.key): the index of its columns on both sides.
  const slots = new Map<string, number>()
  const latest = {a: new LatestPerKey(), b: new LatestPerKey()}
  for (const name of ['a', 'b'] as const) {
    let records = 0
    let unkeyed = 0
    const side = latest[name]
    for await (const batch of sideRecords(sides[name], options.signal)) {
      records += batch.count
      for (let i = 0; i < batch.count; i++) {
        const key = batch.keyAt(i)
        if (key === null) {
          unkeyed++
          continue
        }
        const id = digester.key(key)
        let slot = slots.get(id)
        if (slot === undefined) slots.set(id, (slot = slots.size))
        side.set(slot, batch.partition, batch.offsetAt(i), batch.timestampAt(i), batch.valueAt(i) === null ? null : digester.of(batch, i, true))
      }
    }
    result[name] = {partitions: sides[name].partitions, records, unkeyed}
  }
  const {summary} = result
  // The first `limit` differences by position (A's where A has the key), kept sorted as they are found.
  const first: Array<{kind: DifferenceKind; a?: Latest; b?: Latest}> = []
  const position = (d: {a?: Latest; b?: Latest}) => (d.a ?? d.b)!
  const before = (x: Latest, y: Latest) => x.partition - y.partition || x.offset - y.offset
  for (let slot = 0; slot < slots.size; slot++) {
    const a = latest.a.settled(slot)
    const b = latest.b.settled(slot)
    let kind: DifferenceKind
    if (!a && !b) continue
    else if (!b) kind = 'only-a'
    else if (!a) kind = 'only-b'
    else if (a.digest !== b.digest) kind = 'changed'
    else {
      summary.equal++
      continue
    }
    summary[kind === 'only-a' ? 'onlyA' : kind === 'only-b' ? 'onlyB' : 'changed']++
    if (options.limit === 0) continue
    const found = {kind, a, b}
    if (first.length === options.limit && before(position(found), position(first.at(-1)!)) >= 0) continue
    let at = first.length
    while (at > 0 && before(position(found), position(first[at - 1]!)) < 0) at--
    first.splice(at, 0, found)
    if (first.length > options.limit) first.pop()
  }
  slots.clear()
  // Only positions were kept: the records shown are read again, one by one, and what changed is told from them.
  for (const found of first) {
    const a = found.a && (await recordAtPosition(sides.a, found.a, options.signal))
    const b = found.b && (await recordAtPosition(sides.b, found.b, options.signal))
    result.differences.push({kind: found.kind, a, b, ...(found.kind === 'changed' && a && b ? {fields: changedFields(a, b, options.fields)} : {})})
  }
  return finish(result)
}

/** The compared fields of two records of a key that differ (--by key: their partitions may differ too). */
function changedFields(a: FeedRecord, b: FeedRecord, fields: DiffField[]): DiffField[] {
  return fields.filter((field) => {
    if (field === 'key') return !sameBytes(a.key, b.key)
    if (field === 'value') return !sameBytes(a.value, b.value)
    if (field === 'headers') return !sameHeaders(a.headers, b.headers)
    if (field === 'timestamp') return a.timestamp !== b.timestamp
    return a.partition !== b.partition
  })
}

async function recordAtPosition(side: DiffSide, at: {partition: number; offset: number}, signal: AbortSignal): Promise<FeedRecord | undefined> {
  for await (const batch of side.backend.read([{topic: side.topic, partition: at.partition, from: at.offset, until: at.offset + 1}], {signal}))
    for (let i = 0; i < batch.count; i++) if (batch.offsetAt(i) === at.offset) return recordAt(batch, i)
  return undefined
}

async function diffByValue(sides: Sides, options: DiffOptions): Promise<DiffResult> {
  const result = emptyResult(sides, options)
  const digester = new Digester(options.fields)
  // A's copies minus B's, per distinct record.
  const surplus = new Map<string, number>()
  for (const [name, step] of [['a', 1], ['b', -1]] as const) {
    let records = 0
    for await (const batch of sideRecords(sides[name], options.signal)) {
      records += batch.count
      for (let i = 0; i < batch.count; i++) {
        const digest = digester.of(batch, i)
        const count = (surplus.get(digest) ?? 0) + step
        if (count === 0) surplus.delete(digest)
        else surplus.set(digest, count)
      }
    }
    result[name].records = records
  }
  const {summary} = result
  for (const count of surplus.values()) {
    if (count > 0) summary.onlyA += count
    else summary.onlyB -= count
  }
  summary.equal = result.a.records - summary.onlyA
  if (summary.onlyA + summary.onlyB > 0 && options.limit > 0) {
    // Which copies of a record are the extra ones is arbitrary: the first of each side is shown, once.
    const samples: Difference[] = []
    for (const [name, sign] of [['a', 1], ['b', -1]] as const) {
      let found = 0
      if ((name === 'a' ? summary.onlyA : summary.onlyB) === 0) continue
      for await (const batch of sideRecords(sides[name], options.signal)) {
        for (let i = 0; i < batch.count && found < options.limit; i++) {
          const digest = digester.of(batch, i)
          const count = (surplus.get(digest) ?? 0) * sign
          if (count <= 0) continue
          surplus.delete(digest)
          found++
          const record = recordAt(batch, i)
          samples.push(name === 'a' ? {kind: 'only-a', a: record, copies: count} : {kind: 'only-b', b: record, copies: count})
        }
        // Leaving the loop closes the read.
        if (found >= options.limit) break
      }
    }
    const at = (d: Difference) => (d.a ?? d.b)!
    samples.sort((x, y) => at(x).partition - at(y).partition || at(x).offset - at(y).offset || (x.a ? -1 : 1))
    result.differences = samples.slice(0, options.limit)
  }
  return finish(result)
}
