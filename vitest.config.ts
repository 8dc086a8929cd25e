import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    // better-sqlite3 is a native addon: separate processes are the safe pool for it.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {name: 'local', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'], exclude: ['test/kafka/**'], globalSetup: ['test/setup/local-tools.ts']},
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
    ],
  },
})
