import {Args, Flags} from '@oclif/core'
import {SpoolCommand, expandNullFlag} from '../src/cli/base-command.js'
import {groupFlag, outputFlags, partitionsFlag, partitionsOf, recordWriterFor} from '../src/cli/flags.js'
import {decodeFlags, openDecoder} from '../src/cli/registry.js'
import {outageWithLines} from '../src/cli/outage-lines.js'
import {interruptible} from '../src/cli/signals.js'
import {BufferedOutput} from '../src/io/output.js'
import {lastRecords, planRead, streamRecords, writeRecords} from '../src/ops/consume.js'

export default class Tail extends SpoolCommand {
  static override summary = 'Print the last records of a topic, then follow it like tail -f.'
  static override description = `Prints the newest -n records over all the selected partitions, in timestamp order, then every record that any process writes from then on, as it arrives. Ctrl-C ends it (exit 0).`

  static override examples = [
    {description: 'The last 10, then follow', command: '<%= config.bin %> <%= command.id %> clicks'},
    {description: 'Only new records, as JSON', command: '<%= config.bin %> <%= command.id %> clicks -n 0 --json'},
    {description: 'Follow as a consumer group, resuming after a restart', command: '<%= config.bin %> <%= command.id %> clicks -g dashboard'},
    {description: 'Follow partition 2 with offsets and keys', command: "<%= config.bin %> <%= command.id %> clicks -p 2 --format '%o %k %v\\n'"},
  ]

  static override strict = false
  static override args = {
    topic: Args.string({description: 'Topics to follow (one or more).', required: true}),
  }

  static override flags = {
    lines: Flags.integer({char: 'n', summary: 'How many of the newest records to print first.', default: 10, min: 0}),
    partition: partitionsFlag,
    group: {...groupFlag, summary: 'Follow as this consumer group: continue from its committed offsets (without the -n window) and commit as records are written.'},
    ...outputFlags,
    ...decodeFlags,
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Tail, expandNullFlag(this.argv, {...Tail.baseFlags, ...Tail.flags}))
    const topics = argv as string[]
    const writer = recordWriterFor(flags)
    const partitions = partitionsOf(flags.partition)
    const backend = await this.openBackend(flags, flags.group === undefined ? 'read' : 'write')
    const decoder = await openDecoder(backend, flags)
    // Stopping a follow is how a tail ends: never an error.
    await interruptible(async (signal) => {
      const out = new BufferedOutput(this.streams.out)
      const resuming = flags.group !== undefined && (await backend.groupOffsets(flags.group)).some((o) => topics.includes(o.topic))
      let next
      if (resuming) next = await planRead(backend, {topics, partitions, from: {kind: 'latest'}, follow: true, group: flags.group})
      else {
        const last = await lastRecords(backend, topics, partitions, flags.lines, signal)
        if (!(await writeRecords(last.records, writer, out, decoder))) return
        if (flags.group && (await out.settle().then(() => true, () => false)))
          await backend.commitOffsets(flags.group, last.next.map((a) => ({topic: a.topic, partition: a.partition, offset: a.from})))
        next = last.next
      }
      await streamRecords(backend, next, {writer, out, signal, follow: true, group: flags.group, decoder, outage: outageWithLines(signal, 'reading')})
    }, () => undefined)
  }
}
