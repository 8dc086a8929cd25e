import {inject} from 'vitest'
import {KafkaBackend} from '../../src/backends/kafka/kafka-backend.js'
import {backendContract} from '../contract/backend-contract.js'

// The same contract as the local store, against a real broker. Each test starts from an empty cluster:
// cleanup deletes every topic and group the test made (this project runs its files one at a time).
backendContract(
  'Kafka',
  async () => {
    const connection = {brokers: [inject('kafka').plaintext], timeoutMs: 15_000}
    const backend = new KafkaBackend(connection)
    return {
      backend,
      second: async () => new KafkaBackend(connection),
      cleanup: async () => {
        const admin = new KafkaBackend(connection)
        try {
          for (const group of await admin.listGroups()) await admin.deleteGroup(group).catch(() => {})
          for (const topic of await admin.listTopics()) await admin.deleteTopic(topic.name).catch(() => {})
          // Deletion is asynchronous: wait until the names are free for the next test.
          for (let i = 0; i < 200 && (await admin.listTopics()).length > 0; i++) await new Promise((r) => setTimeout(r, 50))
        } finally {
          await admin.close()
        }
      },
    }
  },
  {retentionEnforcedOnWrite: false},
)
