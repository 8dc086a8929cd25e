import type {TestProject} from 'vitest/node'
// @ts-expect-error: a plain ESM script shared with the bench, without type declarations
import {KAFKA_3_VERSION} from '../../scripts/kafka-broker.mjs'
import {startKafkaProject} from './global-setup.js'

/**
 * Kafka 3.9 is still widely run: the kafka39 project runs the contract and interop tests against it. The
 * schema tests are about the registry's wire format, the same on either broker, and are not run again.
 */
export default function setup(project: TestProject) {
  return startKafkaProject(project, {version: KAFKA_3_VERSION as string, registry: false})
}
