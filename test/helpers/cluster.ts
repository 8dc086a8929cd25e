import {inject} from 'vitest'

export interface PartitionState {
  leader: number
  replicas: number[]
  isr: number[]
}

/**
 * The cluster project's three nodes (test/cluster/global-setup.ts), driven from a test file: the nodes
 * are the global setup's children, so kills and starts go through its control server.
 */
export const cluster = {
  get bootstrap() {
    return inject('cluster').bootstrap
  },
  nodes: () => inject('cluster').nodes,
  /** SIGKILL: the node gets no chance to hand its leaderships over. Resolves when it is gone. */
  kill: (node: number) => control<null>('kill', {node}),
  /** Starts a killed node on its data and ports; resolves when it serves clients again. */
  start: (node: number) => control<null>('start', {node}),
  coordinatorOf: (group: string) => control<number>('coordinator', {group}),
  topicConfigs: (topic: string) => control<Record<string, string | null>>('topic-configs', {topic}),
  running: () => control<number[]>('running', {}),
  partition: (topic: string, partition = 0) => control<PartitionState>('partition', {topic, partition}),
  /** Polls the partition's metadata until `test` holds. */
  async waitFor(topic: string, partition: number, test: (state: PartitionState) => boolean, timeoutMs = 60_000): Promise<PartitionState> {
    const deadline = Date.now() + timeoutMs
    let last: PartitionState | string = ''
    for (;;) {
      try {
        last = await cluster.partition(topic, partition)
        if (test(last)) return last
      } catch (error) {
        last = (error as Error).message
      }
      if (Date.now() > deadline) throw new Error(`${topic}/${partition} did not reach the state waited for in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  },
  /** Every node running, and the partition fully replicated again: the state each test starts from. */
  async heal(topic?: string): Promise<void> {
    for (const {id} of inject('cluster').nodes) await cluster.start(id)
    if (topic) await cluster.waitFor(topic, 0, (s) => s.leader >= 0 && s.isr.length === s.replicas.length)
  },
}

async function control<T>(action: string, params: Record<string, string | number>): Promise<T> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))
  const response = await fetch(`${inject('cluster').control}/${action}?${query}`)
  const text = await response.text()
  if (!response.ok) throw new Error(`cluster ${action} failed: ${text}`)
  return JSON.parse(text) as T
}
