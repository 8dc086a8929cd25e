import {InterruptedError} from '../core/errors.js'

/**
 * The one interrupt wrapper of the commands that stream (produce, consume, tail, replay, pipe, bench):
 * runs `work` with Ctrl-C and SIGTERM as its abort signal. Once the work has returned, `interrupted`
 * says what a signal meant: undefined where it ended the command normally (stopping a follow), else the
 * message of the InterruptedError thrown (exit 130 for Ctrl-C, 143 for SIGTERM).
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>, interrupted: (result: T) => string | undefined): Promise<T> {
  const interrupt = abortOnSignals()
  try {
    const result = await work(interrupt.signal)
    const received = interrupt.received()
    const message = received ? interrupted(result) : undefined
    if (received && message) throw new InterruptedError(message, exitCodeForSignal(received))
    return result
  } finally {
    interrupt.dispose()
  }
}

/**
 * Turns Ctrl-C and SIGTERM into an abort signal for the running operation, so it can finish its current
 * step cleanly. A second signal exits at once: whatever was committed is already safe.
 */
export function abortOnSignals(): {signal: AbortSignal; received: () => NodeJS.Signals | undefined; dispose: () => void} {
  const controller = new AbortController()
  let received: NodeJS.Signals | undefined
  const onSignal = (name: NodeJS.Signals) => {
    if (received) process.exit(exitCodeForSignal(name))
    received = name
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}

export function exitCodeForSignal(name: NodeJS.Signals): number {
  return name === 'SIGTERM' ? 143 : 130
}
