import {Args, Flags} from '@oclif/core'
import {SpoolCommand, expandNullFlag} from '../src/cli/base-command.js'
import {outputFlags, parsePartitions, partitionsFlag, recordWriterFor} from '../src/cli/flags.js'
import {abortOnSignals} from '../src/cli/signals.js'
import {BufferedOutput} from '../src/io/output.js'
import {lastRecords, streamRecords, writeRecords} from '../src/ops/consume.js'

export default class Tail extends SpoolCommand {
  static override summary = 'Print the last records of a topic, then follow it like tail -f.'
  static override description = `Prints the newest -n records over all the selected partitions, in timestamp order, then every record that any process writes from then on, as it arrives. Ctrl-C ends it (exit 0).`

  static override examples = [
    {description: 'The last 10, then follow', command: '<%= config.bin %> <%= command.id %> clicks'},
    {description: 'Only new records, as JSON', command: '<%= config.bin %> <%= command.id %> clicks -n 0 --json'},
    {description: 'Follow partition 2 with offsets and keys', command: "<%= config.bin %> <%= command.id %> clicks -p 2 --format '%o %k %v\\n'"},
  ]

  static override strict = false
  static override args = {
    topic: Args.string({description: 'Topics to follow (one or more).', required: true}),
  }

  static override flags = {
    lines: Flags.integer({char: 'n', summary: 'How many of the newest records to print first.', default: 10, min: 0}),
    partition: partitionsFlag,
    ...outputFlags,
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Tail, expandNullFlag(this.argv))
    const topics = argv as string[]
    const writer = recordWriterFor(flags)
    const partitions = parsePartitions(flags.partition)
    const backend = await this.openBackend(flags)
    const interrupt = abortOnSignals()
    try {
      const out = new BufferedOutput(process.stdout)
      const {records, next} = await lastRecords(backend, topics, partitions, flags.lines, interrupt.signal)
      if (!(await writeRecords(records, writer, out))) return
      await streamRecords(backend, next, {writer, out, signal: interrupt.signal, follow: true})
    } finally {
      interrupt.dispose()
    }
  }
}
