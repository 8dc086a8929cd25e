import {UsageError} from './errors.js'

/** Kafka's own limit (Topic.MAX_NAME_LENGTH): 249 characters, because partition directories append "-NNN". */
export const MAX_TOPIC_NAME_LENGTH = 249
const LEGAL = /^[a-zA-Z0-9._-]+$/

/** Applies Kafka's topic naming rules (org.apache.kafka.common.internals.Topic.validate) before any I/O. */
export function validateTopicName(name: string): string {
  const printable = JSON.stringify(name)
  if (name.length === 0) throw new UsageError('topic name is empty', 'use ASCII letters, digits, ".", "_" and "-"')
  if (name === '.' || name === '..') throw new UsageError(`topic name cannot be ${printable}`)
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    throw new UsageError(`topic name is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`)
  // A topic with its backend's address (kafka://HOST:PORT/TOPIC, file:PATH/TOPIC) is pipe's and diff's form.
  if (/^(kafka|file):/.test(name))
    throw new UsageError(`${printable} is a topic with an address; here the topic is a plain name`, 'give the backend with -b, as in -b kafka://HOST:PORT or -b file:PATH; ADDRESS/TOPIC is for pipe and diff')
  if (!LEGAL.test(name))
    throw new UsageError(
      `topic name ${printable} contains characters other than ASCII alphanumerics, '.', '_' and '-'`,
    )
  return name
}

/** Kafka warns that '.' and '_' collide in metric names; spool warns the same way. */
export function collidingName(name: string, existing: Iterable<string>): string | undefined {
  const normal = name.replaceAll('.', '_')
  for (const other of existing) if (other !== name && other.replaceAll('.', '_') === normal) return other
  return undefined
}
