import {Args, Flags} from '@oclif/core'
import {parseTopicRef} from '../src/backends/index.js'
import {SpoolCommand} from '../src/cli/base-command.js'
import {partitionsFlag, partitionsOf, positionFlag, positionHelp} from '../src/cli/flags.js'
import {interruptible} from '../src/cli/signals.js'
import {ExitCode, SpoolError, UnknownTopicError, UsageError} from '../src/core/errors.js'
import {BufferedOutput, OutputClosedError} from '../src/io/output.js'
import {DEFAULT_DIFF_FIELDS, DIFF_FIELDS, type DiffMode, diffTopics, parseDiffFields} from '../src/ops/diff.js'
import {diffJson, diffText} from '../src/ops/diff-output.js'

export default class Diff extends SpoolCommand {
  static override summary = 'Compare two topics, on any backends: record by record, by latest value per key, or as multisets.'
  static override description = `A and B are topics, each optionally with its backend: orders, file:./other.db/orders, kafka://host:9092/orders. Each is read from --from to its end as it stood when the diff began (never followed).

Modes (--by), and the memory each needs:
- offset (default): per partition, record by record at the same offset; a partition only one side has is a difference. One batch a side.
- key: the latest record of each key, as a compacted topic keeps it: a null value deletes the key; records without a key are left out. About 300 bytes per distinct key.
- value: the records as multisets, order and position ignored. About 100 bytes per distinct record.

--fields says what must match (default ${DEFAULT_DIFF_FIELDS.join(',')}; also partition, for --by key and --by value). Keys, values and header values compare as bytes, headers as ordered lists, timestamps to the millisecond.

Prints the first -n differences (< only in A, > only in B, ~ in both but changed, followed by both), then a summary line; --json prints one document instead ({same, by, fields, a, b, summary, differences}). Exit status as diff(1): 0 equal, 1 different, 2 for anything else (a usage error, a topic that does not exist, a backend that fails).

${positionHelp}`

  static override examples = [
    {description: 'Is the copy exact?', command: '<%= config.bin %> <%= command.id %> orders file:./backup.db/orders'},
    {description: 'A local capture against the Kafka topic it came from', command: '<%= config.bin %> <%= command.id %> clicks kafka://localhost:9092/clicks'},
    {description: 'Same table? Latest value per key, values only', command: '<%= config.bin %> <%= command.id %> users users-compacted --by key --fields value'},
    {description: 'Same records in any order, timestamps aside', command: '<%= config.bin %> <%= command.id %> events events-replayed --by value --fields key,value,headers'},
    {description: 'In a script: all differences as JSON', command: '<%= config.bin %> <%= command.id %> orders orders-eu --json -n 1000 | jq .summary'},
    {description: 'The last hour only', command: '<%= config.bin %> <%= command.id %> orders file:./backup.db/orders --from @-1h'},
  ]

  static override failureExitCode = ExitCode.usage

  static override args = {
    a: Args.string({description: 'The first topic: TOPIC or ADDRESS/TOPIC (lines starting with <).', required: true}),
    b: Args.string({description: 'The second topic: TOPIC or ADDRESS/TOPIC (lines starting with >).', required: true}),
  }

  static override flags = {
    by: Flags.string({summary: 'How records are matched: offset (per partition and offset), key (latest value per key), value (multisets).', options: ['offset', 'key', 'value'], default: 'offset'}),
    fields: Flags.custom({summary: `What must match: a comma list of ${DIFF_FIELDS.join(', ')}.`, defaultHelp: async () => DEFAULT_DIFF_FIELDS.join(','), parse: async (input) => parseDiffFields(input)})(),
    lines: Flags.integer({char: 'n', summary: 'How many differences to print (all are counted).', default: 10, min: 0}),
    json: Flags.boolean({summary: 'Print one JSON document: the summary and the differences, records as consume --json envelopes.'}),
    from: positionFlag({char: 'o', summary: 'Where to start in each partition of each side.', default: {kind: 'earliest'}, defaultHelp: async () => 'earliest'}),
    until: positionFlag({summary: 'Where to stop in each partition of each side (exclusive).'}),
    partition: partitionsFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Diff)
    const refA = parseTopicRef(args.a)
    const refB = parseTopicRef(args.b)
    // The command's own backend is opened only for a side without an address of its own; diff writes nothing.
    const own = refA.address && refB.address ? undefined : await this.openBackend(flags, 'read')
    const a = refA.address ? await this.openBackendAt(refA.address, flags, 'read') : own!
    const b = refB.address ? await this.openBackendAt(refB.address, flags, 'read') : own!
    if (flags.by === 'offset' && flags.fields?.includes('partition'))
      throw new UsageError('--fields partition compares nothing with --by offset: records are matched within one partition', 'use --by key or --by value to compare partitions')
    const result = await interruptible(
      (signal) =>
        diffTopics({backend: a, topic: refA.topic}, {backend: b, topic: refB.topic}, {
          mode: flags.by as DiffMode,
          fields: flags.fields ?? DEFAULT_DIFF_FIELDS,
          limit: flags.lines,
          partitions: partitionsOf(flags.partition),
          from: flags.from,
          until: flags.until,
          signal,
        }),
      () => 'interrupted before the comparison was complete',
    ).catch((error: unknown) => {
      // Creating the missing topic is not what someone comparing topics wants to hear.
      if (error instanceof UnknownTopicError) throw new SpoolError(error.message, {hint: 'see the topics with: spool topic list'})
      throw error
    })
    const names = {a: args.a, b: args.b}
    const out = new BufferedOutput(this.streams.out)
    try {
      out.writeString(flags.json ? diffJson(result, names) : diffText(result))
      await out.end()
    } catch (error) {
      if (!(error instanceof OutputClosedError)) throw error
    }
    if (!result.same) this.setExitCode(1)
  }
}
