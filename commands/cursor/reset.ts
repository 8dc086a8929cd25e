import {Args, Flags} from '@oclif/core'
import {SpoolCommand, resolveBrokerAddress} from '../../src/cli/base-command.js'
import {cursorStoreFlags, openCursorStore, sourceOpener} from '../../src/cli/cursors.js'
import {oneResetTarget, positionFlag, positionHelp, shiftByFlag} from '../../src/cli/flags.js'
import {renderTable} from '../../src/cli/table.js'
import {applyCursorReset, planCursorReset} from '../../src/ops/cursors.js'

export default class CursorReset extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = "Move a cursor's positions; shows the plan and changes nothing without --execute."
  static override description = `--to takes a position (${positionHelp.replace('Positions: ', '')}); --shift-by moves the current positions by N (negative to re-read). Without --topic it resets every topic the cursor reads. Only the local store that keeps the cursor is written; the source is only read.`
  static override examples = [
    {description: 'See what re-reading the last hour would do', command: '<%= config.bin %> <%= command.id %> review --to @-1h'},
    {description: 'Do it', command: '<%= config.bin %> <%= command.id %> review --to @-1h --execute'},
    {description: 'Skip to the end of one topic', command: '<%= config.bin %> <%= command.id %> review --topic orders --to latest --execute'},
    {description: 'Re-read the last 100 records of each partition', command: '<%= config.bin %> <%= command.id %> review --shift-by -100 --execute'},
  ]

  static override args = {cursor: Args.string({description: 'Cursor name.', required: true})}
  static override flags = {
    to: positionFlag({summary: 'The position to move to.'}),
    'shift-by': shiftByFlag({summary: 'Move the positions by this many records.'}),
    topic: Flags.string({char: 't', summary: "Only this topic (repeatable); one the cursor has not read yet is taken from the cursor's source.", multiple: true}),
    execute: Flags.boolean({summary: 'Apply the plan. Without it nothing changes.'}),
    ...cursorStoreFlags,
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(CursorReset)
    oneResetTarget(flags)
    const store = await openCursorStore(flags, flags.execute ? 'write' : 'read', (at, access) => this.openBackendAt(at, flags, access))
    const opener = sourceOpener(resolveBrokerAddress(flags), (address) => this.openBackendAt(address, flags, 'read'))
    const {plan, commits} = await planCursorReset(store, args.cursor, {to: flags.to, shiftBy: flags['shift-by'], topics: flags.topic}, opener)
    if (flags.execute) await applyCursorReset(store, commits)
    if (!this.jsonEnabled())
      this.streams.out.write(
        renderTable(
          ['SOURCE', 'TOPIC', 'PARTITION', 'CURRENT', 'NEW'],
          plan.map((r) => [r.source, r.topic, r.partition, r.current === null ? '-' : String(r.current), r.target]),
        ),
      )
    this.streams.err.write(
      flags.execute
        ? `spool: reset cursor '${args.cursor}' on ${plan.length} partition${plan.length === 1 ? '' : 's'}\n`
        : 'spool: dry run, nothing changed; add --execute to apply\n',
    )
    return plan.map((row) => ({...row, applied: Boolean(flags.execute)}))
  }
}
