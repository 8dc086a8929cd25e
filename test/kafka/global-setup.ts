import type {TestProject} from 'vitest/node'
import {ensureTools} from '../setup/debian-tools.js'
import {ensurePythonPeer, PEER} from '../setup/python-peer.js'
// @ts-expect-error: a plain ESM script shared with the bench, without type declarations
import {startBroker} from '../../scripts/kafka-broker.mjs'
// @ts-expect-error: a plain ESM script, without type declarations
import {startRegistry} from '../../scripts/schema-registry.mjs'

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
    /**
     * A schema registry (Apicurio Registry, empty at the start of the run) and Confluent's Python client
     * as the peer that writes and reads its wire format: `${python} ${peer} produce|consume ...`.
     */
    registry: {
      /** The Confluent Schema Registry API's base URL: http://127.0.0.1:PORT/apis/ccompat/v7 */
      url: string
      /** The virtualenv's python, with confluent-kafka and its serializers' packages. */
      python: string
      /** test/peers/confluent_peer.py */
      peer: string
    }
  }
}

type Stoppable = {stop(): Promise<void>}

/**
 * Starts the test broker and the schema registry once for the Kafka project, side by side with the
 * Python peer's virtualenv (made once, then cached), and stops both when the run ends.
 */
export default function setup(project: TestProject) {
  return startKafkaProject(project)
}

/**
 * The broker (and, unless `registry` is false, the schema registry and the Python peer) for a project;
 * `version` picks the Kafka release, by default the pom's (or SPOOL_KAFKA_VERSION).
 */
export async function startKafkaProject(project: TestProject, options: {version?: string; registry?: boolean} = {}) {
  // kcat is the peer the interop tests compare against.
  ensureTools(['kcat'])
  const log = (name: string) => (line: string) => process.stderr.write(`${name}: ${line}\n`)
  if (options.registry === false) {
    const b = await startBroker({log: log(`kafka ${options.version ?? ''}`.trim()), version: options.version})
    project.provide('kafka', {plaintext: b.plaintext, sasl: b.sasl, tls: b.tls, certificates: b.certificates, users: b.users, version: b.version, lib: b.lib})
    return () => b.stop()
  }
  // The registry and the virtualenv first: the broker's start has synchronous steps (certificates, the
  // storage format) that would otherwise hold them back.
  const registryStart = startRegistry({log: log('schema registry')})
  const pythonSetup = ensurePythonPeer({log: log('python peer')})
  const brokerStart = startBroker({log: log('kafka'), version: options.version})
  const [broker, registry, python] = await Promise.allSettled([brokerStart, registryStart, pythonSetup])
  if (broker.status === 'rejected' || registry.status === 'rejected' || python.status === 'rejected') {
    await Promise.all([broker, registry].map((r) => (r.status === 'fulfilled' ? (r.value as Stoppable).stop() : undefined)))
    throw [broker, registry, python].find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason
  }
  const b = broker.value
  project.provide('kafka', {
    plaintext: b.plaintext,
    sasl: b.sasl,
    tls: b.tls,
    certificates: b.certificates,
    users: b.users,
    version: b.version,
    lib: b.lib,
  })
  project.provide('registry', {url: registry.value.url, python: python.value, peer: PEER})
  return async () => {
    await Promise.all([b.stop(), registry.value.stop()])
  }
}
