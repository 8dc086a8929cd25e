import {Args, Flags} from '@oclif/core'
import {parseTopicRef} from '../src/backends/index.js'
import {startProgress} from '../src/cli/progress.js'
import {SpoolCommand, resolveBrokerAddress} from '../src/cli/base-command.js'
import {checkCursorFlags, cursorFlags, cursorStoreAddress, keepsCursors, openCursor} from '../src/cli/cursors.js'
import {groupFlag, keyFlag, keysOf, partitionsFlag, partitionsOf, positionFlag, positionHelp} from '../src/cli/flags.js'
import {carryingSchemas, registryFlags} from '../src/cli/registry.js'
import {outageWithLines} from '../src/cli/outage-lines.js'
import {interruptible} from '../src/cli/signals.js'
import {isUnreachable, UsageError} from '../src/core/errors.js'
import {pipe} from '../src/ops/pipe.js'
import {followDeadline, planRead, recordsInRange, wholeTopics} from '../src/ops/read-plan.js'
import {TopicSink, commitStarts} from '../src/ops/sinks.js'
import type {GroupOffset} from '../src/core/backend.js'
import {execTransform, expressionTransform, type Transform} from '../src/ops/transform.js'

export default class Pipe extends SpoolCommand {
  static override summary = 'Copy a feed from one topic to another, on the same or another backend, resumably.'
  static override description = `SRC and DST are topics, each optionally with its backend: orders, file:./other.db/orders, kafka://host:9092/orders. Keys, values, headers and timestamps are kept, and partitions too where both topics have the same count (else keys choose with murmur2). A missing DST is created with SRC's partition count.

With --cursor NAME the position is kept in a local store instead (the destination's when it is one, else the source's, else the default store; --store names another) and nothing is committed to the source, so a Kafka source needs only read access. Into a local store, each batch and the cursor's position commit in one transaction: exactly once. Into Kafka the cursor moves after Kafka acknowledged the batch: at-least-once.

With -g GROUP the copy commits its position as it goes: run it again and it continues where it stopped. Between two topics of one local store each batch and the group's offsets commit in one transaction, so a copy killed at any moment and rerun holds every record exactly once. Into Kafka it is exactly once too: each copied record carries a spool.source header (GROUP/TOPIC/PARTITION/OFFSET), and a run first reads back the tail of DST to skip what a killed run already wrote (give each copy into one Kafka topic its own group). Run one copy per group: between topics of one local store a second one is refused; on Kafka the two cannot be told apart. Anywhere else the group is committed right after the batch is written: at-least-once (a kill can repeat the last batch).

-f keeps copying new records as they arrive, and waits out Kafka outages (source or destination) with one line on stderr when Kafka goes and one when it is back; refused credentials, a deleted topic or a record too large still stop it at once. Without -f a Kafka that cannot be reached fails the copy after --timeout.

Transforms (never run through a shell):
  --filter EXPR   keep records for which the JavaScript expression is truthy; r is the record:
                  r.key, r.value (UTF-8 text or null), r.json (value parsed as JSON), r.headers,
                  r.timestamp, r.partition, r.offset, r.keyBytes, r.valueBytes
  --map EXPR      return the new value as a string, or the fields to change ({value: ..., key: ..., headers: [...], timestamp: ...}),
                  or null to drop the record; objects become JSON text
  --exec 'PROG ARGS'  a program fed one JSON envelope per line on stdin; it answers each line with one
                  line: an envelope (fields it leaves out are kept) or null to drop, and must write
                  each answer at once (jq --unbuffered, python3 -u, sed -u)
The guarantees above hold with transforms, provided an --exec program answers deterministically.

${positionHelp}`

  // Written out: oclif's own line showed --filter and --map as exclusive, as --exec is with each of them.
  static override usage = '<%= command.id %> SOURCE DESTINATION [-g GROUP | --cursor NAME] [-f] [-o FROM] [--until UNTIL] [-p PARTITIONS] [--key KEY...] [--filter EXPR] [--map EXPR] [--exec PROGRAM] [-b BACKEND]'

  static override examples = [
    {description: 'Copy, resumably', command: '<%= config.bin %> <%= command.id %> orders orders-backup -g backup'},
    {description: 'Bridge a local feed into Kafka and keep it flowing', command: '<%= config.bin %> <%= command.id %> clicks kafka://localhost:9092/clicks -g bridge -f'},
    {description: 'Copy a Kafka topic into the local store exactly once, resumably, with read-only access to the cluster', command: '<%= config.bin %> <%= command.id %> kafka://localhost:9092/orders orders --cursor orders-copy'},
    {description: 'Only large orders, tagged', command: "<%= config.bin %> <%= command.id %> orders big-orders --filter 'r.json?.amount > 1000' --map '({value: {...r.json, big: true}})'"},
    {description: 'Copy the records of one key only (through the key index of a local source)', command: '<%= config.bin %> <%= command.id %> orders orders-customer-17 --key customer-17'},
    {description: 'Through an external program', command: "<%= config.bin %> <%= command.id %> raw clean --exec 'jq --unbuffered -c \".value |= ascii_downcase\"'"},
  ]

  static override args = {
    source: Args.string({description: 'Topic to copy from: TOPIC or ADDRESS/TOPIC.', required: true}),
    destination: Args.string({description: 'Topic to copy into: TOPIC or ADDRESS/TOPIC.', required: true}),
  }

  static override flags = {
    group: groupFlag,
    ...cursorFlags,
    from: positionFlag({char: 'o', summary: 'Where to start where the group or cursor has no position yet.', default: {kind: 'earliest'}, defaultHelp: async () => 'earliest'}),
    until: positionFlag({summary: 'Where to stop in each partition (exclusive). With -f a time still to come (@+10m) ends the follow then.'}),
    follow: Flags.boolean({char: 'f', summary: 'Keep copying new records instead of stopping at the end.'}),
    partition: partitionsFlag,
    key: keyFlag,
    filter: Flags.string({summary: 'Keep only records for which this JavaScript expression over r is truthy.'}),
    map: Flags.string({summary: 'A JavaScript expression over r returning the fields to change, or null to drop.'}),
    exec: Flags.string({summary: 'A program (with arguments) that transforms JSON envelopes, one line in, one line out.', exclusive: ['filter', 'map']}),
    ...registryFlags,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Pipe)
    const partitions = partitionsOf(flags.partition)
    const sourceRef = parseTopicRef(args.source)
    const destinationRef = parseTopicRef(args.destination)
    // The command's own backend only when a topic has no address of its own: a pipe between two Kafka
    // clusters opens no local store. The source is written to only for a group's commits.
    // The source opens first, so a source that cannot be reached creates no destination store.
    checkCursorFlags(flags)
    const own = resolveBrokerAddress(flags)
    const sourceAddress = sourceRef.address ?? own
    const destinationAddress = destinationRef.address ?? own
    const cursorAt = flags.cursor === undefined ? undefined : cursorStoreAddress(flags.store, [destinationAddress, sourceAddress])
    const sourceAccess = flags.group === undefined && !keepsCursors(sourceAddress, cursorAt) ? 'read' : 'write'
    const addressed = sourceRef.address ? await this.openBackendAt(sourceRef.address, flags, sourceAccess) : undefined
    const fallback =
      sourceRef.address && destinationRef.address ? undefined : await this.openBackend(flags, destinationRef.address ? sourceAccess : 'write')
    const source = addressed ?? fallback!
    const destination = destinationRef.address ? await this.openBackendAt(destinationRef.address, flags, 'write') : fallback!
    if (source.sameStoreAs(destination) && sourceRef.topic === destinationRef.topic)
      throw new UsageError(`source and destination are the same topic '${sourceRef.topic}'`)
    const cursor = cursorAt && (await openCursor(flags.cursor!, source, cursorAt, [destination, source], (at) => this.openBackendAt(at, flags, 'write')))
    let transform: Transform | undefined
    if (flags.exec !== undefined) transform = execTransform(flags.exec)
    else if (flags.filter !== undefined || flags.map !== undefined) transform = expressionTransform(flags.filter, flags.map)
    try {
      await interruptible(
        async (signal) => {
          // With -f an outage of Kafka, at the start or later, is waited out (source-stamp.ts and
          // src/core/outage.ts); without it a Kafka that cannot be reached fails the copy after --timeout.
          let read = 0
          let assignments: Awaited<ReturnType<typeof planRead>> = []
          const waiting = async () => {
            if (source.kind === 'kafka') return undefined
            const info = await source.describeTopic(sourceRef.topic)
            const ends = assignments.reduce((sum, a) => sum + (info.partitionInfo.find((p) => p.partition === a.partition)?.end ?? a.from) - a.from, 0)
            return Math.max(0, ends - read)
          }
          const outage = flags.follow ? outageWithLines(signal, 'forwarding', waiting) : undefined
          const patiently = <T>(call: () => Promise<T>) => (outage ? outage.run(call) : call())
          const sourceInfo = await patiently(() => source.describeTopic(sourceRef.topic))
          const resume = cursor && (await patiently(() => cursor.resume([sourceRef.topic])))
          for (const note of resume?.notes ?? []) this.streams.err.write(`spool: ${note}\n`)
          // Planned before the destination is opened, so that a forwarder started while Kafka is down
          // can say how many records wait.
          let unpositioned: GroupOffset[] = []
          assignments = await patiently(() =>
            planRead(source, {
              topics: [sourceRef.topic],
              partitions,
              from: flags.from,
              until: flags.until,
              follow: flags.follow,
              group: flags.group,
              resume: resume?.offsets,
              unpositioned: (unpositioned = []), // a new list for each try: patiently() may plan again
            }),
          )
          // Before the destination opens: a copy into Kafka reads its group's position to finish a killed run.
          await patiently(() => commitStarts(source, {group: flags.group, cursor}, unpositioned))
          const stamp = flags.group === undefined ? undefined : {group: flags.group, topic: sourceRef.topic}
          let sink
          try {
            sink = await carryingSchemas(
              await TopicSink.open(destination, destinationRef.topic, source, {
                sourcePartitions: sourceInfo.partitions,
                positionStore: cursor?.storeBackend,
                stamp,
                outage,
                signal,
              }),
              source,
              destination,
              flags,
            )
          } catch (error) {
            // Ctrl-C while waiting for Kafka to come back before the first copy: a follow stopped, nothing half-done.
            if (signal.aborted && isUnreachable(error)) return {read: 0, written: 0}
            throw error
          }
          const keys = keysOf(flags.key)
          // With --key the progress counts the records looked at: on Kafka a read by key is a scan.
          const total = flags.follow ? undefined : recordsInRange(assignments)
          const progress = await startProgress(`${keys ? 'scanning' : 'copying'} ${args.source} → ${args.destination}`, total)
          let scanned = 0
          const note = flags.group ? ` (${sink.guarantee}, group '${flags.group}')` : cursor ? ` (${sink.guarantee}, cursor '${cursor.name}' in ${cursor.store.location})` : ''
          const result = await pipe(source, assignments, {
            sink,
            signal,
            follow: flags.follow,
            addedPartitions: flags.follow ? wholeTopics(assignments, partitions) : undefined,
            stopAt: followDeadline({follow: flags.follow, until: flags.until}),
            group: flags.group,
            cursor,
            transform,
            keys,
            outage,
            onScanned: keys && ((records) => progress.update((scanned += records))),
            onBatch: (done) => {
              read = done
              if (!keys) progress.update(done)
            },
          }).finally(() => progress.stop())
          this.streams.err.write(`spool: copied ${result.written} of ${result.read} records from ${args.source} to ${args.destination}${note}\n`)
          return result
        },
        (result) => (flags.follow ? undefined : `interrupted after ${result.read} record${result.read === 1 ? '' : 's'}`),
      )
    } finally {
      await transform?.close()
    }
  }
}
