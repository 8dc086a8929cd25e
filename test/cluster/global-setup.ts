import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {TestProject} from 'vitest/node'
import {ensureTools} from '../setup/debian-tools.js'
// @ts-expect-error: a plain ESM script shared with the bench, without type declarations
import {startCluster} from '../../scripts/kafka-broker.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: {
      /** Every node's PLAINTEXT address, comma-separated. */
      bootstrap: string
      nodes: {id: number; address: string}[]
      version: string
      /** The control server (test/helpers/cluster.ts): kill and start nodes, read partition metadata. */
      control: string
    }
  }
}

/**
 * Starts the three-node cluster once for the cluster project. The nodes are children of this process,
 * and the test files run in other processes: a small HTTP server on loopback lets them kill and start
 * nodes here, so that whatever a test does, the teardown stops every node it started.
 */
export default async function setup(project: TestProject) {
  ensureTools(['kcat'])
  const cluster = await startCluster({log: (line: string) => process.stderr.write(`cluster: ${line}\n`)})
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const node = Number(url.searchParams.get('node'))
    const answer = async () => {
      if (url.pathname === '/kill') return cluster.kill(node)
      if (url.pathname === '/start') return cluster.start(node)
      if (url.pathname === '/partition') return cluster.partition(url.searchParams.get('topic'), Number(url.searchParams.get('partition') ?? 0))
      if (url.pathname === '/coordinator') return cluster.coordinatorOf(url.searchParams.get('group'))
      if (url.pathname === '/topic-configs') return cluster.topicConfigs(url.searchParams.get('topic'))
      if (url.pathname === '/running') return cluster.nodes.filter((n: {id: number}) => cluster.isRunning(n.id)).map((n: {id: number}) => n.id)
      throw new Error(`unknown request ${url.pathname}`)
    }
    answer().then(
      (value) => response.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(value ?? null)),
      (error: Error) => response.writeHead(500).end(error.message),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  project.provide('cluster', {bootstrap: cluster.bootstrap, nodes: cluster.nodes, version: cluster.version, control: `http://127.0.0.1:${port}`})
  return async () => {
    server.close()
    await cluster.stop()
  }
}
