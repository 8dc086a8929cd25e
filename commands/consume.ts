import {Args, Flags} from '@oclif/core'
import {SpoolCommand, expandNullFlag} from '../src/cli/base-command.js'
import {cursorFlags, openSourceWithCursor} from '../src/cli/cursors.js'
import {durationFlag, filterFlag, filterHelp, groupFlag, keyFlag, keysOf, outputFlags, partitionsFlag, partitionsOf, positionFlag, positionHelp, recordWriterFor} from '../src/cli/flags.js'
import {keyScanProgress} from '../src/cli/key-scan.js'
import {decodeFlags, openDecoder} from '../src/cli/registry.js'
import {outageWithLines} from '../src/cli/outage-lines.js'
import {interruptible} from '../src/cli/signals.js'
import {BufferedOutput} from '../src/io/output.js'
import {followDeadline, planRead, streamRecords, wholeTopics} from '../src/ops/consume.js'
import {DEFAULT_MAX_WAIT_MS, mergeRecords} from '../src/ops/merge.js'
import {commitStarts} from '../src/ops/sinks.js'
import type {GroupOffset} from '../src/core/backend.js'

export default class Consume extends SpoolCommand {
  static override summary = 'Print the records of one or more topics to stdout.'
  static override description = `Reads from --from (default: earliest) to the end of each partition as it stood when the read began, then exits; with -f it keeps printing new records, written by any process, as they arrive. By default each value is printed followed by a newline; --format, --json and -D/-0 change that.

${positionHelp} -N counts per partition. --until is exclusive.

${filterHelp} -c counts the records that pass.

--key K (repeatable) reads only the records with key K. The local store finds them through its key index, decoding only the batches that hold the key; Kafka has no index, so there it is a scan that filters (with progress on a terminal).

Without --merge, records come partition by partition, each partition in offset order. With --merge they come as one timeline of every partition of every topic named, by timestamp (ties by topic name, partition, then offset). Following, a merged record is printed once every input holds a later one or has had nothing new for --max-wait (default 500ms), so an idle topic delays the others by at most that much; a record that arrives later with an older timestamp is printed when it arrives.`

  static override examples = [
    {description: 'Everything, one value per line', command: '<%= config.bin %> <%= command.id %> orders'},
    {description: 'The last 5 records of each partition, with partition, offset and key', command: "<%= config.bin %> <%= command.id %> clicks --from -5 --format '%p/%o %k=%v\\n'"},
    {description: 'A time window as JSON envelopes', command: '<%= config.bin %> <%= command.id %> clicks --from @-10m --until @-5m --json'},
    {description: 'Follow two topics', command: '<%= config.bin %> <%= command.id %> orders payments -f'},
    {description: 'Two topics as one timeline, by timestamp', command: '<%= config.bin %> <%= command.id %> orders payments --merge --format \'%t %T %v\\n\''},
    {description: 'Follow three topics merged, holding records back at most 200 ms for a quiet one', command: '<%= config.bin %> <%= command.id %> web api db --merge -f --max-wait 200ms --from @-5m'},
    {description: 'Resume where the group "audit" stopped, committing as records are written', command: '<%= config.bin %> <%= command.id %> orders -g audit'},
    {description: 'The next 100 records for the cursor "review" (kept locally; nothing is committed to the cluster)', command: '<%= config.bin %> <%= command.id %> orders -b kafka://localhost:9092 --cursor review -c 100'},
    {description: 'Avro, Protobuf or JSON Schema values as JSON (schemas from the registry, or the local store\'s own)', command: '<%= config.bin %> <%= command.id %> orders --decode --registry http://localhost:8081 -b kafka://localhost:9092'},
    {description: 'Only large orders; the first 3 of them', command: "<%= config.bin %> <%= command.id %> orders --filter 'r.json?.amount > 1000' -c 3"},
    {description: 'Failed payments: the filter sees the decoded value', command: "<%= config.bin %> <%= command.id %> payments --decode --json --filter 'r.json?.status === \"FAILED\"'"},
    {description: 'Records carrying a trace header', command: "<%= config.bin %> <%= command.id %> orders --filter 'r.headers.some((h) => h.key === \"trace-id\")'"},
    {description: 'The records of two keys, found through the local store\'s key index', command: '<%= config.bin %> <%= command.id %> orders --key customer-17 --key customer-42 --json'},
    {description: 'An exact copy into another topic', command: '<%= config.bin %> <%= command.id %> clicks --json | <%= config.bin %> produce clicks-copy --input json'},
  ]

  static override strict = false
  static override args = {
    topic: Args.string({description: 'Topics to read (one or more).', required: true}),
  }

  static override flags = {
    from: positionFlag({char: 'o', summary: 'Where to start in each partition.', default: {kind: 'earliest'}, defaultHelp: async () => 'earliest', aliases: ['offset']}),
    until: positionFlag({summary: 'Where to stop in each partition (exclusive). With -f a time still to come (@+10m) ends the follow then.'}),
    count: Flags.integer({char: 'c', summary: 'Stop after this many records in all (with --filter: records that pass).', min: 0}),
    filter: filterFlag,
    follow: Flags.boolean({char: 'f', summary: 'Keep waiting for new records instead of exiting at the end.'}),
    merge: Flags.boolean({summary: 'One timeline across all partitions and topics, ordered by timestamp (ties: topic, partition, offset); a partition whose own timestamps go back keeps its offset order.'}),
    'max-wait': durationFlag({summary: 'With --merge -f: how long a quiet input may hold the others back (e.g. 200ms, 2s). Default: 500ms.', dependsOn: ['merge']}),
    partition: partitionsFlag,
    key: keyFlag,
    group: groupFlag,
    ...cursorFlags,
    ...outputFlags,
    ...decodeFlags,
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Consume, expandNullFlag(this.argv, {...Consume.baseFlags, ...Consume.flags}))
    const topics = argv as string[]
    const writer = recordWriterFor(flags)
    const partitions = partitionsOf(flags.partition)
    const {backend, cursor, resume} = await openSourceWithCursor(flags, topics, (at, access) => this.openBackendAt(at, flags, access), (line) => this.streams.err.write(`${line}\n`))
    const decoder = await openDecoder(backend, flags)
    const unpositioned: GroupOffset[] = []
    const assignments = await planRead(backend, {topics, partitions, from: flags.from, until: flags.until, follow: flags.follow, group: flags.group, resume: resume?.offsets, unpositioned})
    await commitStarts(backend, {group: flags.group, cursor}, unpositioned)
    const out = new BufferedOutput(this.streams.out)
    const keys = keysOf(flags.key)
    const scan = await keyScanProgress(backend, keys, assignments, topics.join(', '))
    await interruptible(
      (signal) => {
        const stopAt = followDeadline({follow: flags.follow, until: flags.until})
        const options = {writer, out, signal, follow: flags.follow, limit: flags.count, group: flags.group, cursor, decoder, filter: flags.filter, keys, onScanned: scan.onScanned, outage: flags.follow ? outageWithLines(signal, 'reading') : undefined, addedPartitions: flags.follow ? wholeTopics(assignments, partitions) : undefined, stopAt}
        // A merged follow ends at its --until time as a Ctrl-C would end it.
        const merged = () => mergeRecords(backend, assignments, {...options, signal: stopAt === undefined ? signal : AbortSignal.any([signal, AbortSignal.timeout(Math.max(0, stopAt - Date.now()))]), maxWaitMs: flags['max-wait'] ?? DEFAULT_MAX_WAIT_MS})
        return (flags.merge ? merged() : streamRecords(backend, assignments, options)).finally(() => scan.stop())
      },
      // Stopping a follow is how a follow ends; stopping a bounded read leaves it unfinished.
      () => (flags.follow ? undefined : 'interrupted'),
    )
  }
}
