import {Args, Flags} from '@oclif/core'
import {parseTopicRef} from '../src/backends/index.js'
import {startProgress} from '../src/cli/progress.js'
import {SpoolCommand, expandNullFlag, resolveBrokerAddress} from '../src/cli/base-command.js'
import {checkCursorFlags, cursorFlags, cursorStoreAddress, keepsCursors, openCursor} from '../src/cli/cursors.js'
import {durationFlag, filterFlag, filterHelp, groupFlag, keyFlag, keysOf, outputFlags, partitionsFlag, partitionsOf, positionFlag, positionHelp, recordWriterFor} from '../src/cli/flags.js'
import {interruptible} from '../src/cli/signals.js'
import type {Backend, GroupOffset} from '../src/core/backend.js'
import {UsageError} from '../src/core/errors.js'
import {parseRate} from '../src/core/units.js'
import {BufferedOutput} from '../src/io/output.js'
import {planRead, recordsInRange} from '../src/ops/read-plan.js'
import {type Pacing, replay} from '../src/ops/replay.js'
import {DecodingOutputSink, OutputSink, type RecordSink, TopicSink, commitStarts} from '../src/ops/sinks.js'
import {carryingSchemas, decodeFlags, openDecoder} from '../src/cli/registry.js'
import {passes} from '../src/ops/consume.js'

export default class Replay extends SpoolCommand {
  static override summary = 'Re-emit a range of a topic at its original pace, faster, or at a fixed rate.'
  static override description = `Records come out in timestamp order across partitions (ties by partition, then offset), each at its original gap from the one before, divided by --speed, with silences capped by --max-gap. Due times are kept on one timeline from the first record, so a 60 s capture at --speed 1 takes 60 s. --speed max replays as fast as consume; --rate 500/s ignores the timestamps.

Output goes to stdout (the same flags as consume) or, with --to, into a topic on any backend (e.g. --to kafka://host:9092/orders or --to file:./other.db/orders); --retime stamps the replayed records with the time they are written.

${filterHelp} Records that do not pass are skipped before pacing: the ones kept keep their original times, and --rate paces only them.

${positionHelp}`

  static override examples = [
    {description: 'The last 10 minutes, at their original pace', command: '<%= config.bin %> <%= command.id %> clicks --from @-10m'},
    {description: 'Ten times faster, long pauses cut to 2 s', command: '<%= config.bin %> <%= command.id %> clicks --from @-1h --speed 10 --max-gap 2s'},
    {description: 'Into another topic, stamped with the current time', command: '<%= config.bin %> <%= command.id %> captured --to staging-clicks --retime'},
    {description: "Only one user's clicks, at their original pace", command: "<%= config.bin %> <%= command.id %> clicks --from @-1h --filter 'r.key === \"user-42\"'"},
    {description: 'Only the records of one key, ten times faster', command: '<%= config.bin %> <%= command.id %> orders --key customer-17 --speed 10'},
    {description: 'Replay what came in since the last run of the cursor "nightly" (the first run replays everything)', command: '<%= config.bin %> <%= command.id %> clicks --cursor nightly --speed max --to staging-clicks'},
    {description: 'At a fixed 200 records per second, as JSON', command: '<%= config.bin %> <%= command.id %> clicks --rate 200/s --json'},
  ]

  static override args = {topic: Args.string({description: 'Topic to replay.', required: true})}
  static override flags = {
    from: positionFlag({char: 'o', summary: 'Where to start in each partition.', default: {kind: 'earliest'}, defaultHelp: async () => 'earliest'}),
    until: positionFlag({summary: 'Where to stop in each partition (exclusive); default: the end when the replay starts.'}),
    speed: Flags.string({char: 's', summary: 'Divide the original gaps by this (0.5 is half speed), or "max" for no pacing.', default: '1', exclusive: ['rate']}),
    rate: Flags.string({summary: 'Emit at a fixed rate instead, e.g. 500/s, 500 or 30/m.', exclusive: ['speed', 'max-gap']}),
    'max-gap': durationFlag({summary: 'Cap each pause at this long (e.g. 5s).'}),
    to: Flags.string({summary: 'Write into this topic ([ADDRESS/]TOPIC) instead of stdout.'}),
    filter: filterFlag,
    retime: Flags.boolean({summary: 'Give replayed records the time they are written instead of their original timestamps.'}),
    partition: partitionsFlag,
    key: keyFlag,
    group: groupFlag,
    ...cursorFlags,
    ...outputFlags,
    ...decodeFlags,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Replay, expandNullFlag(this.argv, {...Replay.baseFlags, ...Replay.flags}))
    const pacing = parsePacing(flags.speed, flags.rate, flags['max-gap'])
    const partitions = partitionsOf(flags.partition)
    if (flags.to !== undefined && (flags.json || flags.format !== undefined || flags.delimiter !== undefined || flags.null))
      throw new UsageError('--to writes into a topic; output flags (--json, --format, -D, -0) only apply to stdout')
    if (flags.to !== undefined && flags.decode) throw new UsageError('--to copies records as they are; --decode only applies to stdout')
    if (flags.retime && flags.to === undefined) throw new UsageError('--retime only applies with --to')
    checkCursorFlags(flags)
    const own = resolveBrokerAddress(flags)
    const toRef = flags.to === undefined ? undefined : parseTopicRef(flags.to)
    // A cursor lives with the records replayed into a local store, so both commit in one transaction.
    const cursorAt = flags.cursor === undefined ? undefined : cursorStoreAddress(flags.store, toRef?.address ? [toRef.address, own] : [own])
    // The source is written to when it takes the group's commits, the cursor or, without an address, the copy.
    const writesSource = flags.group !== undefined || keepsCursors(own, cursorAt) || (toRef !== undefined && !toRef.address)
    const source = await this.openBackend(flags, writesSource ? 'write' : 'read')
    {
      let destination: Backend | undefined
      if (toRef) destination = toRef.address ? await this.openBackendAt(toRef.address, flags, 'write') : source
      const cursor =
        cursorAt && (await openCursor(flags.cursor!, source, cursorAt, destination ? [destination, source] : [source], (at) => this.openBackendAt(at, flags, 'write')))
      const resume = cursor && (await cursor.resume([args.topic]))
      for (const note of resume?.notes ?? []) this.streams.err.write(`spool: ${note}\n`)
      const unpositioned: GroupOffset[] = []
      const assignments = await planRead(source, {topics: [args.topic], partitions, from: flags.from, until: flags.until, follow: false, group: flags.group, resume: resume?.offsets, unpositioned})
      await commitStarts(source, {group: flags.group, cursor}, unpositioned)
      let sink: RecordSink
      const decoder = flags.to === undefined ? await openDecoder(source, flags) : undefined
      if (flags.to === undefined)
        sink = decoder
          ? new DecodingOutputSink(recordWriterFor(flags), new BufferedOutput(this.streams.out), decoder)
          : new OutputSink(recordWriterFor(flags), new BufferedOutput(this.streams.out))
      else {
        const sourceInfo = await source.describeTopic(args.topic)
        sink = await carryingSchemas(
          await TopicSink.open(destination!, toRef!.topic, source, {retime: flags.retime, sourcePartitions: sourceInfo.partitions, positionStore: cursor?.storeBackend}),
          source,
          destination!,
          flags,
        )
      }
      const keys = keysOf(flags.key)
      // With --key the range's size says nothing of how many records will come.
      const total = keys ? undefined : recordsInRange(assignments)
      // Progress only when the records go into a topic: on stdout they are the display.
      const progress = flags.to ? await startProgress(`replaying ${args.topic} → ${flags.to}`, total) : undefined
      const result = await interruptible(
        (signal) =>
          replay(source, assignments, {pacing, sink, signal, group: flags.group, cursor, keys, onRecord: progress && ((written) => progress.update(written)), filter: flags.filter && passes(flags.filter, decoder)}).finally(() => progress?.stop()),
        (result) => (result.outputClosed ? undefined : `interrupted after ${result.written} record${result.written === 1 ? '' : 's'}`),
      )
      if (flags.to !== undefined) this.streams.err.write(`spool: replayed ${result.written} records into ${flags.to}\n`)
    }
  }
}

function parsePacing(speed: string, rate: string | undefined, maxGapMs: number | undefined): Pacing {
  if (rate !== undefined) {
    return {kind: 'rate', perSecond: parseRate(rate, '--rate')}
  }
  if (speed.trim().toLowerCase() === 'max') return {kind: 'speed', speed: Number.POSITIVE_INFINITY, maxGapMs}
  const value = Number(speed.replace(/x$/i, ''))
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--speed '${speed}' is not a speed`, 'use a positive number (1, 10, 0.5) or max')
  return {kind: 'speed', speed: value, maxGapMs}
}
