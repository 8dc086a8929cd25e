import {Args, Flags} from '@oclif/core'
import {SpoolCommand, expandNullFlag} from '../src/cli/base-command.js'
import {cursorFlags, openSourceWithCursor} from '../src/cli/cursors.js'
import {filterFlag, filterHelp, groupFlag, keyFlag, keysOf, outputFlags, partitionsFlag, partitionsOf, recordWriterFor} from '../src/cli/flags.js'
import {keyScanProgress} from '../src/cli/key-scan.js'
import {decodeFlags, openDecoder} from '../src/cli/registry.js'
import {outageWithLines} from '../src/cli/outage-lines.js'
import {interruptible} from '../src/cli/signals.js'
import {BufferedOutput} from '../src/io/output.js'
import {lastRecords, passes, planRead, streamRecords, wholeTopics, writeRecords} from '../src/ops/consume.js'
import {commitPosition, positionCommit} from '../src/ops/sinks.js'

export default class Tail extends SpoolCommand {
  static override summary = 'Print the last records of a topic, then follow it like tail -f.'
  static override description = `Prints the newest -n records over all the selected partitions, in timestamp order, then every record that any process writes from then on, as it arrives. Ctrl-C ends it (exit 0); so does -c N, after N new records (those after the first -n), for scripts that wait for something to happen.

${filterHelp} With --filter, -n shows the newest records that pass (like grep | tail -n) and -c counts only passing records.

With --key K (repeatable) the -n records are the newest records with that key, and only that key's new records follow. The local store finds them through its key index; on Kafka the first window is a scan of the topics.`

  static override examples = [
    {description: 'The last 10, then follow', command: '<%= config.bin %> <%= command.id %> clicks'},
    {description: 'Only new records, as JSON', command: '<%= config.bin %> <%= command.id %> clicks -n 0 --json'},
    {description: 'Follow as a consumer group, resuming after a restart', command: '<%= config.bin %> <%= command.id %> clicks -g dashboard'},
    {description: 'Wait for the next 5 records, print them and exit', command: '<%= config.bin %> <%= command.id %> clicks -n 0 -c 5'},
    {description: 'The last 20 errors, then follow only errors', command: "<%= config.bin %> <%= command.id %> logs -n 20 --filter 'r.value?.includes(\"ERROR\")'"},
    {description: 'Block until an order for user 42 arrives (for a test script)', command: "<%= config.bin %> <%= command.id %> orders -n 0 -c 1 --filter 'r.json?.user === 42' --json"},
    {description: 'The last 5 records of one key, then its new ones', command: '<%= config.bin %> <%= command.id %> orders -n 5 --key customer-17'},
    {description: 'Follow with a local cursor: after a restart it continues where it stopped, committing nothing to the cluster', command: '<%= config.bin %> <%= command.id %> clicks -b kafka://localhost:9092 --cursor dashboard'},
    {description: 'Follow partition 2 with offsets and keys', command: "<%= config.bin %> <%= command.id %> clicks -p 2 --format '%o %k %v\\n'"},
  ]

  static override strict = false
  static override args = {
    topic: Args.string({description: 'Topics to follow (one or more).', required: true}),
  }

  static override flags = {
    lines: Flags.integer({char: 'n', summary: 'How many of the newest records to print first.', default: 10, min: 0}),
    count: Flags.integer({char: 'c', summary: 'Exit (0) after this many new records, not counting the first -n.', min: 0}),
    filter: filterFlag,
    partition: partitionsFlag,
    key: keyFlag,
    group: {...groupFlag, summary: 'Follow as this consumer group: continue from its committed offsets (without the -n window; partitions added since start at their beginning) and commit as records are written.'},
    ...cursorFlags,
    ...outputFlags,
    ...decodeFlags,
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Tail, expandNullFlag(this.argv, {...Tail.baseFlags, ...Tail.flags}))
    const topics = argv as string[]
    const writer = recordWriterFor(flags)
    const partitions = partitionsOf(flags.partition)
    const {backend, cursor, resume} = await openSourceWithCursor(flags, topics, (at, access) => this.openBackendAt(at, flags, access), (line) => this.streams.err.write(`${line}\n`))
    const decoder = await openDecoder(backend, flags)
    const keys = keysOf(flags.key)
    // Stopping a follow is how a tail ends: never an error.
    await interruptible(async (signal) => {
      const out = new BufferedOutput(this.streams.out)
      if (flags.group !== undefined) await backend.checkGroupIdle?.(flags.group)
      const groupOffsets = flags.group === undefined ? [] : (await backend.groupOffsets(flags.group)).filter((o) => topics.includes(o.topic))
      const resuming = groupOffsets.length > 0 || (resume !== undefined && resume.offsets.length > 0)
      let next
      // Resumed as a cursor is: a partition of a topic the group follows that has no commit (added since)
      // starts at its beginning, not at its end, which would skip what was written to it in between.
      if (resuming) next = await planRead(backend, {topics, partitions, from: {kind: 'latest'}, follow: true, resume: [...groupOffsets, ...(resume?.offsets ?? [])]})
      else {
        const window = keys ? await planRead(backend, {topics, partitions, from: {kind: 'earliest'}, follow: false}) : []
        const scan = await keyScanProgress(backend, keys, window, topics.join(', '))
        const last = await lastRecords(backend, topics, partitions, flags.lines, signal, {keep: flags.filter && passes(flags.filter, decoder), keys, onScanned: scan.onScanned}).finally(() => scan.stop())
        if (!(await writeRecords(last.records, writer, out, decoder))) return
        const committed = positionCommit(backend, {group: flags.group, cursor}, last.next.map((a) => ({topic: a.topic, partition: a.partition, offset: a.from})))
        if (committed && (await out.settle().then(() => true, () => false))) await commitPosition(committed)
        next = last.next
      }
      await streamRecords(backend, next, {writer, out, signal, follow: true, group: flags.group, cursor, decoder, filter: flags.filter, limit: flags.count, keys, outage: outageWithLines(signal, 'reading'), addedPartitions: wholeTopics(next, partitions)})
    }, () => undefined)
  }
}
