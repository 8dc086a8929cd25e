import {currentStreams} from '../io/streams.js'
import {SpoolError, UsageError} from '../core/errors.js'
import {ArrayRecordBatch, type FeedRecord, type Header} from '../core/record.js'
import {decodeEnvelopeChanges, encodeEnvelope, EnvelopeError} from '../io/json-envelope.js'
import {DelimiterSplitter} from '../io/splitter.js'
import {compileExpression, expressionFailed, recordView} from './record-filter.js'

/**
 * Turns the records of one source batch into the records to write (fewer, changed, or the same). A
 * transform may answer later than asked (a program that buffers its output): `apply` takes the records at
 * once and its promise settles when they are answered, in the order asked.
 */
export interface Transform {
  apply(records: FeedRecord[]): Promise<FeedRecord[]>
  /** No more records will come: a program's stdin is closed, so that it writes out what it holds. */
  end(): void
  /** Stops the transform; a program that has not exited within a second after its stdin closed is killed. */
  close(): Promise<void>
}

function toBytes(value: unknown, field: string): Buffer | null {
  if (value === null) return null
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value)
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  if (value === undefined) throw new SpoolError(`--map returned undefined for "${field}"`)
  return Buffer.from(JSON.stringify(value), 'utf8')
}

/** --filter EXPR keeps records for which EXPR is truthy; --map EXPR returns the fields to change, or null to drop. */
export function expressionTransform(filter: string | undefined, map: string | undefined): Transform {
  const keep = filter === undefined ? undefined : compileExpression(filter, '--filter')
  const change = map === undefined ? undefined : compileExpression(map, '--map')
  const evaluate = (fn: (r: unknown) => unknown, record: FeedRecord, flag: string) => {
    try {
      return fn(recordView(record))
    } catch (error) {
      throw expressionFailed(flag, flag === '--filter' ? filter! : map!, record, error)
    }
  }
  return {
    async apply(records) {
      const out: FeedRecord[] = []
      for (const record of records) {
        if (keep && !evaluate(keep, record, '--filter')) continue
        if (!change) {
          out.push(record)
          continue
        }
        const result = evaluate(change, record, '--map')
        if (result === null || result === undefined || result === false) continue
        // A bare string or bytes is the common case: the new value, everything else kept.
        if (typeof result === 'string' || result instanceof Uint8Array) {
          out.push({...record, value: toBytes(result, 'value')})
          continue
        }
        if (typeof result !== 'object' || Array.isArray(result))
          throw new SpoolError(`--map must return a string, an object like {value: ...}, or null, not ${Array.isArray(result) ? 'an array' : typeof result}`)
        const fields = result as Record<string, unknown>
        out.push({
          ...record,
          key: 'key' in fields ? toBytes(fields.key, 'key') : record.key,
          value: 'value' in fields ? toBytes(fields.value, 'value') : record.value,
          timestamp: typeof fields.timestamp === 'number' ? fields.timestamp : record.timestamp,
          headers: Array.isArray(fields.headers)
            ? (fields.headers as Array<{key: string; value: unknown}>).map((h): Header => ({key: String(h.key), value: toBytes(h.value ?? null, 'header')}))
            : record.headers,
        })
      }
      return out
    },
    end() {},
    async close() {},
  }
}

/** Splits a command line into words, honouring quotes and backslashes, without any shell expansion. */
export function splitCommandLine(text: string): string[] {
  const words: string[] = []
  let word = ''
  let quote: '"' | "'" | undefined
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quote) {
      if (c === quote) quote = undefined
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i]
      else word += c
    } else if (c === '"' || c === "'") {
      quote = c
      inWord = true
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i]
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (quote) throw new UsageError(`--exec has an unclosed ${quote} quote`)
  if (inWord) words.push(word)
  if (words.length === 0) throw new UsageError('--exec is empty', "give a program and its arguments, e.g. --exec 'jq --unbuffered -c .'")
  return words
}

/**
 * --exec PROGRAM: a long-running child, started without a shell, fed one JSON envelope per line on stdin.
 * It must answer each line with exactly one line: an envelope to write, or `null` (or an empty line) to
 * drop the record. Fields it leaves out keep their values.
 */
const SILENCE_HINT_MS = 5000
/** How long a program gets to exit once its stdin is closed, and again after SIGTERM. */
const EXIT_GRACE_MS = 1000

interface Request {
  records: FeedRecord[]
  output: FeedRecord[]
  answered: number
  resolve: (records: FeedRecord[]) => void
  reject: (error: unknown) => void
}

export function execTransform(commandLine: string): Transform {
  const [program, ...args] = splitCommandLine(commandLine)
  // Its own process group: Ctrl-C at a terminal reaches spool alone, which then closes the program's
  // input, writes and commits what it answers, and stops it (within a second, else it is killed).
  // node:child_process (and node:net under it, ~6 ms) only when --exec runs: this module is in the bundle's
  // module of what commands other than consume and produce share (scripts/bundle.js), loaded by topic list.
  const {spawn} = process.getBuiltinModule('node:child_process')
  const child = spawn(program!, args, {stdio: ['pipe', 'pipe', 'inherit'], shell: false, detached: true})
  // Requests in the order their records went to the program; answers come back in the same order.
  const requests: Request[] = []
  let exited: string | undefined
  let silence: NodeJS.Timeout | undefined
  const fail = (reason: string) => {
    for (const request of requests.splice(0))
      request.reject(new SpoolError(`--exec: ${reason} after answering ${request.answered} of ${request.records.length} records of a batch`))
  }
  // The usual cause of silence is a program that buffers its output when it is not a terminal.
  const watchSilence = () => {
    clearTimeout(silence)
    silence = undefined
    if (requests.length === 0) return
    silence = setTimeout(() => {
      currentStreams().err.write(`spool: --exec '${program}' has not answered for ${SILENCE_HINT_MS / 1000} s; it must write each answer line at once (jq --unbuffered, python3 -u, sed -u, grep --line-buffered)\n`)
    }, SILENCE_HINT_MS)
    silence.unref()
  }
  const splitter = new DelimiterSplitter(Buffer.from('\n'), 64 * 1024 * 1024, (chunk, start, end) => {
    const line = chunk.subarray(start, end)
    const request = requests[0]
    if (!request) return fail('answered with more lines than it was given records')
    const original = request.records[request.answered++]!
    try {
      const answer = answerRecord(line, original)
      if (answer) request.output.push(answer)
    } catch (error) {
      requests.shift()
      request.reject(error)
      return
    }
    if (request.answered === request.records.length) {
      requests.shift()
      request.resolve(request.output)
      watchSilence()
    }
  }, () => {
    throw new SpoolError('--exec answered with a line over 64 MiB')
  })
  child.stdout.on('data', (chunk: Buffer) => {
    try {
      splitter.push(chunk)
    } catch (error) {
      fail((error as Error).message)
    }
  })
  child.on('error', (error) => {
    exited = `cannot run '${program}': ${error.message}`
    fail(exited)
  })
  child.on('exit', (code, signal) => {
    exited ??= `'${program}' exited (${signal ?? `code ${code}`})`
  })
  // 'close' comes after the exit and after the last answers in its stdout pipe have been read.
  child.on('close', () => fail(exited ?? `'${program}' closed its output`))
  child.stdin.on('error', () => {})

  return {
    apply(records) {
      if (exited) return Promise.reject(new SpoolError(`--exec: ${exited}`))
      if (records.length === 0) return Promise.resolve([])
      return new Promise<FeedRecord[]>((resolve, reject) => {
        requests.push({records, output: [], answered: 0, resolve, reject})
        let text = ''
        for (const record of records) text += `${encodeEnvelope(new ArrayRecordBatch(record.topic, record.partition, [record]), 0)}\n`
        child.stdin.write(text)
        if (!silence) watchSilence()
      })
    },
    end() {
      child.stdin.end()
    },
    async close() {
      clearTimeout(silence)
      child.stdin.end()
      const exit = () => child.exitCode !== null || child.signalCode !== null
      const waitExit = (ms: number) =>
        exit()
          ? Promise.resolve(true)
          : new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), ms)
              child.once('exit', () => {
                clearTimeout(timer)
                resolve(true)
              })
            })
      if (await waitExit(EXIT_GRACE_MS)) return
      child.kill('SIGTERM')
      if (!(await waitExit(EXIT_GRACE_MS))) child.kill('SIGKILL')
    },
  }
}

/** A program's answer line as the record to write: null drops it; fields it leaves out keep their values. */
function answerRecord(line: Buffer, original: FeedRecord): FeedRecord | null {
  const trimmed = line.toString('utf8').trim()
  if (trimmed === '' || trimmed === 'null') return null
  try {
    const changes = decodeEnvelopeChanges(line)
    return {
      ...original,
      key: changes.key === undefined ? original.key : changes.key,
      value: changes.value === undefined ? original.value : changes.value,
      headers: changes.headers ?? original.headers,
      timestamp: changes.timestamp ?? original.timestamp,
    }
  } catch (error) {
    const why = error instanceof EnvelopeError ? error.message : (error as Error).message
    throw new SpoolError(`--exec answered record ${original.topic}/${original.partition}@${original.offset} with a line that is not an envelope: ${why}`)
  }
}
