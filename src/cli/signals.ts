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
