import {durationFlag} from '../src/cli/flags.js'
import {Flags} from '@oclif/core'
import {SpoolCommand, printJson} from '../src/cli/base-command.js'
import {renderTable} from '../src/cli/table.js'
import {UsageError} from '../src/core/errors.js'
import {formatBytes} from '../src/core/units.js'
import {lastRecords} from '../src/ops/consume.js'
import {decodeFlags, openDecoder} from '../src/cli/registry.js'
import {takeSnapshot} from '../src/ops/top.js'
import {loadUi} from '../src/ui/load-ui.js'

export default class Top extends SpoolCommand {
  static override summary = 'A live dashboard of topics (records, size, write rate) and consumer groups (lag).'
  static override description = `Refreshes every --interval. ↑/↓ select a topic, Enter shows its newest records live, Esc goes back, q quits. Needs a terminal; --once prints one snapshot instead (a table, or JSON with --json).`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> -b kafka://localhost:9092 --interval 2s',
    '<%= config.bin %> <%= command.id %> --once --json | jq ".topics[] | {name, records}"',
  ]
  static override flags = {
    once: Flags.boolean({summary: 'Print one snapshot and exit (works without a terminal).'}),
    json: Flags.boolean({summary: 'With --once: print the snapshot as JSON.', dependsOn: ['once']}),
    interval: durationFlag({summary: 'How often to refresh.', default: 1000, defaultHelp: async () => '1s'}),
    peek: Flags.integer({summary: 'Records shown when peeking at a topic.', default: 15, min: 1}),
    ...decodeFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Top)
    const intervalMs = flags.interval
    if (!flags.once && !(process.stdout.isTTY && process.stdin.isTTY))
      throw new UsageError('spool top needs a terminal', 'for a snapshot use: spool top --once (or --once --json)')
    const backend = await this.openBackend(flags, 'read')
    if (flags.once) {
      const snapshot = await takeSnapshot(backend)
      if (flags.json) return printJson(snapshot)
      this.streams.out.write(renderTable(['TOPIC', 'PARTITIONS', 'RECORDS', 'SIZE'], snapshot.topics.map((t) => [t.name, t.partitions, t.records, formatBytes(t.bytes)])))
      if (snapshot.groups.length > 0)
        this.streams.out.write(`\n${renderTable(['GROUP', 'TOPICS', 'LAG'], snapshot.groups.map((g) => [g.group, g.topics.join(','), g.lag]))}`)
      return
    }
    // ink and react load only here: the other commands never pay for them.
    const {runTop} = await loadUi(() => import('../src/ui/top.js'))
    const signal = new AbortController().signal
    const decoder = await openDecoder(backend, flags)
    await runTop({
      load: (previous) => takeSnapshot(backend, previous),
      peek: async (topic) => {
        const {records} = await lastRecords(backend, [topic], undefined, flags.peek, signal)
        return decoder ? Promise.all(records.map((record) => decoder.decodeRecord(record))) : records
      },
      intervalMs,
      width: process.stdout.columns ?? 100,
    })
  }
}
