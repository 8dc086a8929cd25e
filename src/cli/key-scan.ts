import type {Assignment, Backend} from '../core/backend.js'
import type {KeySelection} from '../core/key-selection.js'
import {currentStreams} from '../io/streams.js'
import {recordsInRange} from '../ops/read-plan.js'
import {type Progress, startProgress} from './progress.js'

export interface KeyScan {
  onScanned?: (records: number) => void
  stop(): void
}

/**
 * Progress of a read by key that has to scan (Kafka keeps no key index): records looked at, of the
 * range when it is bounded. Drawn on stderr only when it is a terminal and the records are not printed
 * on that terminal too (a spinner redrawn between printed records would overwrite them).
 */
export async function keyScanProgress(backend: Backend, keys: KeySelection | undefined, assignments: Assignment[], topic: string): Promise<KeyScan> {
  if (!keys || backend.kind !== 'kafka' || (currentStreams().out as {isTTY?: boolean}).isTTY) return {stop() {}}
  const progress: Progress = await startProgress(`scanning ${topic} for ${keys.keys.length === 1 ? 'the key' : `${keys.keys.length} keys`}`, recordsInRange(assignments))
  let scanned = 0
  return {
    onScanned(records) {
      scanned += records
      progress.update(scanned)
    },
    stop: () => progress.stop(),
  }
}
