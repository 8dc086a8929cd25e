import type {TestProject} from 'vitest/node'
import {ensureTools} from '../setup/debian-tools.js'
// @ts-expect-error: a plain ESM script shared with the bench, without type declarations
import {startBroker} from '../../scripts/kafka-broker.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    kafka: {
      plaintext: string
      sasl: string
      tls: string
      certificates: {ca: string; cert: string; key: string}
      users: Record<string, string>
      version: string
      lib: string
    }
  }
}

/** Starts the test broker once for the Kafka project and stops it when the run ends. */
export default async function setup(project: TestProject) {
  // kcat is the peer the interop tests compare against.
  ensureTools(['kcat'])
  const broker = await startBroker({log: (line: string) => process.stderr.write(`kafka: ${line}\n`)})
  project.provide('kafka', {
    plaintext: broker.plaintext,
    sasl: broker.sasl,
    tls: broker.tls,
    certificates: broker.certificates,
    users: broker.users,
    version: broker.version,
    lib: broker.lib,
  })
  return async () => {
    await broker.stop()
  }
}
