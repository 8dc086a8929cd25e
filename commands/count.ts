import {Args, Flags} from '@oclif/core'
import {SpoolCommand} from '../src/cli/base-command.js'
import {keyFlag, keysOf, partitionsFlag, partitionsOf, positionFlag, positionHelp} from '../src/cli/flags.js'
import {keyScanProgress} from '../src/cli/key-scan.js'
import {decodeFlags, openDecoder} from '../src/cli/registry.js'
import {interruptible} from '../src/cli/signals.js'
import {COUNT_BY, type CountBy, MAX_FILLED_BUCKETS, bucketJson, bucketLabel, countRecords, histogram} from '../src/ops/count.js'
import {planRead, selectPartitions} from '../src/ops/read-plan.js'

export default class Count extends SpoolCommand {
  static override summary = 'Count the records of one or more topics exactly, in all or by partition, key or time.'
  static override description = `Counts what \`spool consume\` with the same topics, partitions and positions would print. Several topics give one count (and, --by partition, a row per topic/partition). On Kafka, offsets are not counts (compaction and transaction markers leave gaps), so the records are read; the local store answers a total or --by partition from its batch metadata without reading records, and --by minute/hour/day reads only the batches that span two buckets.

--by prints one row per bucket: on a terminal a bar chart, piped a bucket and its count separated by a tab, --json an object for scripts. Time buckets are UTC, listed from the first to the last with empty ones as 0 (over a span of more than 100,000 buckets only those with records, noted on stderr and in --json); keys are listed by count, most first. --filter counts only the records for which pipe's expression is truthy (see spool pipe --help); --key K (repeatable) only the records with key K, found through the local store's key index (on Kafka, a scan). With --decode, the filter sees and --by key counts keys and values decoded from their schemas, as consume --decode prints them.

${positionHelp} --until is exclusive.`

  static override examples = [
    {description: 'Every record of a topic', command: '<%= config.bin %> <%= command.id %> orders'},
    {description: 'The last hour, per minute, as a bar chart on a terminal', command: '<%= config.bin %> <%= command.id %> clicks --from @-1h --by minute'},
    {description: 'Records per key, the 10 busiest, as columns for other tools', command: '<%= config.bin %> <%= command.id %> orders --by key | head -10'},
    {description: 'Per partition of two topics, as JSON', command: '<%= config.bin %> <%= command.id %> orders payments --by partition --json'},
    {description: 'How many records one key got in the last hour (found through the local store\'s key index)', command: '<%= config.bin %> <%= command.id %> orders --key customer-17 --from @-1h'},
    {description: 'Only the records a filter keeps', command: "<%= config.bin %> <%= command.id %> orders --filter 'r.json?.amount > 100' -b kafka://localhost:9092"},
    {description: 'Avro (or Protobuf, JSON Schema) values, filtered on their decoded fields', command: "<%= config.bin %> <%= command.id %> orders --decode --filter 'r.json.status === \"FAILED\"'"},
  ]

  static override enableJsonFlag = true
  static override strict = false
  static override args = {
    topic: Args.string({description: 'Topics to count (one or more).', required: true}),
  }

  static override flags = {
    from: positionFlag({char: 'o', summary: 'Where to start in each partition.', default: {kind: 'earliest'}, defaultHelp: async () => 'earliest'}),
    until: positionFlag({summary: 'Where to stop in each partition (exclusive); default: the end when the count starts.'}),
    by: Flags.string({summary: 'Count per bucket instead of in all.', options: [...COUNT_BY]}),
    filter: Flags.string({summary: "Count only records for which this JavaScript expression over r is truthy, e.g. 'r.json?.status >= 500'."}),
    partition: partitionsFlag,
    key: keyFlag,
    ...decodeFlags,
  }

  async run(): Promise<unknown> {
    const {argv, flags} = await this.parse(Count)
    const topics = argv as string[]
    const by = flags.by as CountBy | undefined
    const backend = await this.openBackend(flags, 'read')
    const decoder = await openDecoder(backend, flags)
    const partitions = partitionsOf(flags.partition)
    const assignments = await planRead(backend, {topics, partitions, from: flags.from, until: flags.until, follow: false})
    const distinct = [...new Set(topics)]
    // Partitions with nothing in the range are rows too: a 0 shows the skew.
    const listed = by === 'partition' ? await Promise.all(distinct.map(async (topic) => selectPartitions(await backend.describeTopic(topic), partitions).map((p) => ({topic, partition: p.partition})))) : []
    const keys = keysOf(flags.key)
    const scan = await keyScanProgress(backend, keys, assignments, topics.join(', '))
    const result = await interruptible(
      (signal) => countRecords(backend, assignments, {by, filter: flags.filter, decoder, signal, partitions: listed.flat(), keys, onScanned: scan.onScanned}).finally(() => scan.stop()),
      () => 'interrupted: the count is incomplete',
    )
    if (result.unfilledSpan !== undefined)
      this.streams.err.write(
        `spool: the records span ${result.unfilledSpan.toLocaleString('en-US')} ${by}s: only the ${result.buckets!.length.toLocaleString('en-US')} with records are listed` +
          ` (empty ones are listed as 0 over at most ${MAX_FILLED_BUCKETS.toLocaleString('en-US')}; narrow it with --from/--until or count --by a longer bucket)\n`,
      )
    if (this.jsonEnabled())
      return {
        topics: distinct,
        count: result.total,
        ...(by === undefined ? {} : {by, buckets: result.buckets!.map((bucket) => bucketJson(bucket, by))}),
        ...(result.unfilledSpan === undefined ? {} : {empty_buckets_listed: false}),
        read_records: result.recordsRead,
      }
    const out = this.streams.out
    if (by === undefined) {
      out.write(`${result.total}\n`)
      return undefined
    }
    const rows = result.buckets!.map((bucket) => ({label: bucketLabel(bucket, by, distinct.length > 1), count: bucket.count}))
    if ((out as {isTTY?: boolean}).isTTY) {
      const width = (out as {columns?: number}).columns || 80
      out.write(`${histogram(rows, width).join('\n')}\n`)
      this.streams.err.write(`${result.total.toLocaleString('en-US')} records in ${rows.length} ${rows.length === 1 ? 'bucket' : 'buckets'}\n`)
    } else out.write(rows.map((row) => `${row.label}\t${row.count}\n`).join(''))
    return undefined
  }
}
