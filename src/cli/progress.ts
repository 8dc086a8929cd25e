import type {Ora} from 'ora'
import {currentStreams} from '../io/streams.js'

/**
 * Progress on stderr for waits longer than a moment, drawn only when stderr is a terminal: nothing of
 * it ever reaches stdout, and pipes, files and CI logs get no spinner frames. ora loads only then.
 */
export interface Progress {
  /** Records done so far (of `total`, when the range is known). */
  update(done: number): void
  /** Changes what is being waited for. */
  phase(label: string): void
  /** Removes the line; the command prints its own result. */
  stop(): void
}

const silent: Progress = {update() {}, phase() {}, stop() {}}

export function progressWanted(): boolean {
  // A terminal that reports no width (a bare pty) would make the spinner's line arithmetic run away.
  const streams = currentStreams()
  return streams.errIsTTY && streams.columns > 0
}

const number = (n: number) => Math.round(n).toLocaleString('en-US')

function timeLeft(ms: number): string {
  const seconds = Math.ceil(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  return minutes < 60 ? `${minutes}m${String(seconds % 60).padStart(2, '0')}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`
}

/** The text of a progress line: done and total, the share, the rate, and the time left when known. */
export function describeProgress(label: string, done: number, total: number | undefined, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
  const parts = [label, total === undefined ? `${number(done)} records` : `${number(done)} / ${number(total)} records`]
  if (total !== undefined && total > 0) parts.push(`${((done / total) * 100).toFixed(1)}%`)
  if (elapsedMs >= 500) parts.push(`${number(rate)} rec/s`)
  if (total !== undefined && rate > 0 && done < total) parts.push(`~${timeLeft(((total - done) / rate) * 1000)} left`)
  return parts.join('  ')
}

/** A spinner on stderr; ora loads only when one is drawn. stdin is left alone: it may carry the records. */
async function startSpinner(text: string): Promise<Ora> {
  const {default: ora} = await import('ora')
  return ora({text, stream: currentStreams().err as NodeJS.WriteStream, discardStdin: false}).start()
}

export async function startProgress(label: string, total?: number): Promise<Progress> {
  if (!progressWanted()) return silent
  const spinner = await startSpinner(describeProgress(label, 0, total, 0))
  const started = performance.now()
  let drawn = 0
  let current = label
  return {
    phase(next) {
      current = next
      spinner.text = next
    },
    update(done) {
      const now = performance.now()
      // At most ten redraws a second: a million records must not mean a million terminal writes.
      if (now - drawn < 100) return
      drawn = now
      spinner.text = describeProgress(current, done, total, now - started)
    },
    stop() {
      spinner.stop()
    },
  }
}

/** A spinner for a wait without a count, such as connecting to a broker. */
export async function withSpinner<T>(text: string, work: () => Promise<T>): Promise<T> {
  if (!progressWanted()) return work()
  const spinner = await startSpinner(text)
  try {
    return await work()
  } finally {
    spinner.stop()
  }
}
