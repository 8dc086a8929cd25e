/**
 * Loads an ink interface. With CI set, ink draws only the last frame, at exit: it is meant for CI logs,
 * and reads the variable once, when it loads (is-in-ci). spool's interfaces run only on a terminal, where
 * that would leave the screen blank, so ink loads with the variables hidden; they are put back at once
 * for everything else.
 */
export async function loadUi<T>(load: () => Promise<T>): Promise<T> {
  const hidden = {CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION}
  delete process.env.CI
  delete process.env.CONTINUOUS_INTEGRATION
  try {
    return await load()
  } finally {
    for (const [name, value] of Object.entries(hidden)) if (value !== undefined) process.env[name] = value
  }
}
