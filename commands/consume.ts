import {Args, Flags} from '@oclif/core'
import {SpoolCommand, expandNullFlag} from '../src/cli/base-command.js'
import {groupFlag, outputFlags, partitionsFlag, partitionsOf, positionFlag, positionHelp, recordWriterFor} from '../src/cli/flags.js'
import {decodeFlags, openDecoder} from '../src/cli/registry.js'
import {outageWithLines} from '../src/cli/outage-lines.js'
import {interruptible} from '../src/cli/signals.js'
import {BufferedOutput} from '../src/io/output.js'
import {planRead, streamRecords} from '../src/ops/consume.js'

export default class Consume extends SpoolCommand {
  static override summary = 'Print the records of one or more topics to stdout.'
  static override description = `Reads from --from (default: earliest) to the end of each partition as it stood when the read began, then exits; with -f it keeps printing new records, written by any process, as they arrive. By default each value is printed followed by a newline; --format, --json and -D/-0 change that.

${positionHelp} -N counts per partition. --until is exclusive.`

  static override examples = [
    {description: 'Everything, one value per line', command: '<%= config.bin %> <%= command.id %> orders'},
    {description: 'The last 5 records of each partition, with partition, offset and key', command: "<%= config.bin %> <%= command.id %> clicks --from -5 --format '%p/%o %k=%v\\n'"},
    {description: 'A time window as JSON envelopes', command: '<%= config.bin %> <%= command.id %> clicks --from @-10m --until @-5m --json'},
    {description: 'Follow two topics', command: '<%= config.bin %> <%= command.id %> orders payments -f'},
    {description: 'Resume where the group "audit" stopped, committing as records are written', command: '<%= config.bin %> <%= command.id %> orders -g audit'},
    {description: 'Avro, Protobuf or JSON Schema values as JSON (schemas from the registry, or the local store\'s own)', command: '<%= config.bin %> <%= command.id %> orders --decode --registry http://localhost:8081 -b kafka://localhost:9092'},
    {description: 'An exact copy into another topic', command: '<%= config.bin %> <%= command.id %> clicks --json | <%= config.bin %> produce clicks-copy --input json'},
  ]

  static override strict = false
  static override args = {
    topic: Args.string({description: 'Topics to read (one or more).', required: true}),
  }

  static override flags = {
    from: positionFlag({char: 'o', summary: 'Where to start in each partition.', default: {kind: 'earliest'}, defaultHelp: async () => 'earliest', aliases: ['offset']}),
    until: positionFlag({summary: 'Where to stop in each partition (exclusive).'}),
    count: Flags.integer({char: 'c', summary: 'Stop after this many records in all.', min: 0}),
    follow: Flags.boolean({char: 'f', summary: 'Keep waiting for new records instead of exiting at the end.'}),
    partition: partitionsFlag,
    group: groupFlag,
    ...outputFlags,
    ...decodeFlags,
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Consume, expandNullFlag(this.argv, {...Consume.baseFlags, ...Consume.flags}))
    const topics = argv as string[]
    const writer = recordWriterFor(flags)
    const partitions = partitionsOf(flags.partition)
    const backend = await this.openBackend(flags, flags.group === undefined ? 'read' : 'write')
    const decoder = await openDecoder(backend, flags)
    const assignments = await planRead(backend, {topics, partitions, from: flags.from, until: flags.until, follow: flags.follow, group: flags.group})
    const out = new BufferedOutput(this.streams.out)
    await interruptible(
      (signal) =>
        streamRecords(backend, assignments, {writer, out, signal, follow: flags.follow, limit: flags.count, group: flags.group, decoder, outage: flags.follow ? outageWithLines(signal, 'reading') : undefined}),
      // Stopping a follow is how a follow ends; stopping a bounded read leaves it unfinished.
      () => (flags.follow ? undefined : 'interrupted'),
    )
  }
}
