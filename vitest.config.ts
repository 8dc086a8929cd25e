import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    // better-sqlite3 is a native addon: separate processes are the safe pool for it.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    setupFiles: ['test/setup/stop-started.ts'],
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {name: 'local', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'], exclude: ['test/kafka/**', 'test/cluster/**'], globalSetup: ['test/setup/local-tools.ts']},
      },
      {
        extends: true,
        test: {
          // One real Kafka broker (KRaft, started from Maven-fetched jars) for all of these files, which
          // run one at a time so that each can own the broker's topics and groups while it runs.
          name: 'kafka',
          include: ['test/kafka/**/*.test.ts'],
          globalSetup: ['test/kafka/global-setup.ts'],
          fileParallelism: false,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          // The contract suite, the interop tests (kcat, Kafka's Java tools, codecs, SASL, TLS) and the ACL
          // test again, against a Kafka 3.9 broker: the older line many clusters still run (its ACL tool is
          // another class). The schema tests are not repeated.
          name: 'kafka39',
          include: ['test/kafka/contract.test.ts', 'test/kafka/interop.test.ts', 'test/kafka/acl.test.ts'],
          globalSetup: ['test/kafka/global-setup-3.9.ts'],
          fileParallelism: false,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          // Three KRaft nodes (scripts/kafka-broker.mjs startCluster) whose leaders the tests kill -9 and
          // restart: their own project, so that these slower tests run apart from the single-broker ones.
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/cluster/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
})
