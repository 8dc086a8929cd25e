import {Flags} from '@oclif/core'
import type {LocalBackend} from '../src/backends/local/local-store.js'
import {SpoolCommand, printJson} from '../src/cli/base-command.js'
import {SpoolError, UsageError} from '../src/core/errors.js'

export default class Check extends SpoolCommand {
  static override summary = 'Verify every stored batch of a local store (checksums, structure, offsets) and the SQLite file itself.'
  static override description =
    'Reads every batch of every topic as a consume would, checking its CRC-32C, its structure and that offsets follow on, then runs ' +
    "SQLite's quick_check on the file. Prints what is damaged and exits 1 if anything is; opens the store read-only. " +
    'Batches written before spool 0.2 carry no checksum and are checked for their structure only. ' +
    "Each batch's key index row and record map (what reads by --key go through: its key filter, key hashes, record positions " +
    'and per-chunk checksums) are rebuilt from the batch and compared.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> -b file:./archive.db --json']
  static override flags = {
    json: Flags.boolean({summary: 'Print the report as JSON for scripts.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Check)
    const backend = await this.openBackend(flags, 'read').catch(unreadable)
    if (backend.kind !== 'local')
      throw new UsageError('spool check verifies a local store', 'Kafka brokers check their own logs; spool verifies the CRC of every batch it fetches')
    let report
    try {
      report = (backend as LocalBackend).check()
    } catch (error) {
      unreadable(error)
    }
    if (flags.json) printJson({...report, ok: report.damage.length === 0 && report.sqlite.length === 0})
    else {
      const lines = [
        `${report.location}: ${report.topics} topics, ${report.partitions} partitions, ${report.batches} batches, ${report.records.toLocaleString('en-US')} records checked` +
          (report.withoutChecksum > 0 ? ` (${report.withoutChecksum} batches written before checksums: structure only)` : ''),
        ...report.damage.map((d) => `damaged: topic '${d.topic}' partition ${d.partition}, ${d.from === d.to ? `offset ${d.from}` : `offsets ${d.from}-${d.to}`}: ${d.reason}`),
        ...report.sqlite.map((line) => `damaged: SQLite reports: ${line}`),
      ]
      this.streams.out.write(`${lines.join('\n')}\n`)
    }
    const problems = report.damage.length + report.sqlite.length
    if (problems > 0) throw new SpoolError(`store ${report.location} is damaged: ${problems} problem${problems === 1 ? '' : 's'} found`, {hint: 'copy what still reads with: spool pipe (or consume --json) into a new store'})
  }
}

/**
 * A store SQLite cannot read at all (its tables are gone: a truncated file) fails before there is
 * anything to check: the usual "see what is damaged with: spool check" would send check to itself.
 */
function unreadable(error: unknown): never {
  if (error instanceof SpoolError && error.hint?.startsWith('see what is damaged with: spool check'))
    throw new SpoolError(error.message, {cause: error, hint: 'SQLite cannot read its tables, so there is nothing spool can check or copy: restore the store from a copy'})
  throw error
}
