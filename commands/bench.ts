import {sizeFlag} from '../src/cli/flags.js'
import {Flags} from '@oclif/core'
import {startProgress} from '../src/cli/progress.js'
import {SpoolCommand, printJson} from '../src/cli/base-command.js'
import {interruptible} from '../src/cli/signals.js'
import {renderTable} from '../src/cli/table.js'
import {parseCount, runLoadTest} from '../src/ops/bench.js'

export default class Bench extends SpoolCommand {
  static override summary = 'Measure a backend: produce and consume throughput and follower latency.'
  static override description = `Writes synthetic records into a scratch topic through the same backend interface the commands use, reads them all back, then measures how long one record takes from append to a waiting follower. The scratch topic is deleted afterwards unless --keep.

It measures the backend, not stdin parsing or stdout writing: for the whole pipeline, time \`spool produce\` and \`spool consume\` on your own data (npm run bench in a clone of spool does that).`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --records 5M --size 200 --partitions 4',
    '<%= config.bin %> <%= command.id %> -b kafka://localhost:9092 --json',
  ]

  static override flags = {
    records: Flags.string({char: 'n', summary: 'How many records to write (1000, 250k, 1M).', default: '1M'}),
    size: sizeFlag({char: 's', summary: 'Bytes per record value (100, 1KiB).', default: 100}),
    partitions: Flags.integer({char: 'p', summary: 'Partitions of the scratch topic.', default: 1, min: 1}),
    batch: Flags.integer({summary: 'Records per append.', default: 16_384, min: 1}),
    'latency-samples': Flags.integer({summary: 'Records timed from append to follower.', default: 200, min: 1}),
    topic: Flags.string({summary: 'Name of the scratch topic (it must not exist).'}),
    keep: Flags.boolean({summary: 'Keep the scratch topic afterwards.'}),
    json: Flags.boolean({summary: 'Print the figures as JSON.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Bench)
    const records = parseCount(flags.records, '--records')
    const recordBytes = flags.size
    const backend = await this.openBackend(flags, 'write')
    const progress = await startProgress(`bench: ${records.toLocaleString('en-US')} records`)
    try {
      const result = await interruptible(
        (signal) =>
          runLoadTest(backend, {
        topic: flags.topic ?? `spool-bench-${process.pid}-${Date.now()}`,
        records,
        recordBytes,
        partitions: flags.partitions,
        batchRecords: flags.batch,
        latencySamples: flags['latency-samples'],
        keep: flags.keep,
            signal,
            onPhase: (phase) => progress.phase(`bench: ${phase}`),
          }),
        () => 'bench interrupted; the scratch topic was removed',
      )
      progress.stop()
      if (flags.json) return printJson(result)
      const round = (n: number) => Math.round(n).toLocaleString('en-US')
      this.streams.out.write(
        renderTable(
          ['MEASURE', 'RESULT'],
          [
            ['produce', `${round(result.produce.recordsPerSecond)} records/s (${result.produce.megabytesPerSecond.toFixed(1)} MB/s, ${result.produce.seconds.toFixed(2)} s)`],
            ['consume', `${round(result.consume.recordsPerSecond)} records/s (${result.consume.megabytesPerSecond.toFixed(1)} MB/s, ${result.consume.seconds.toFixed(2)} s)`],
            ['latency', `p50 ${result.latency.p50Ms.toFixed(1)} ms, p99 ${result.latency.p99Ms.toFixed(1)} ms, max ${result.latency.maxMs.toFixed(1)} ms (${result.latency.samples} samples)`],
          ],
        ),
      )
    } finally {
      progress.stop()
    }
  }
}
