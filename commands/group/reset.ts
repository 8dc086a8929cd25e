import {Args, Flags} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {oneResetTarget, positionFlag, positionHelp, shiftByFlag} from '../../src/cli/flags.js'
import {renderTable} from '../../src/cli/table.js'
import {applyReset, planReset} from '../../src/ops/groups.js'

export default class GroupReset extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = "Move a consumer group's committed offsets; shows the plan and changes nothing without --execute."
  static override description = `--to takes a position (${positionHelp.replace('Positions: ', '')}); --shift-by moves the current offsets by N (negative to re-read). Without --topic it resets every topic the group has offsets for.`
  static override examples = [
    {description: 'See what re-reading the last hour would do', command: '<%= config.bin %> <%= command.id %> billing --to @-1h'},
    {description: 'Do it', command: '<%= config.bin %> <%= command.id %> billing --to @-1h --execute'},
    {description: 'Skip to the end of one topic', command: '<%= config.bin %> <%= command.id %> billing --topic orders --to latest --execute'},
    {description: 'Re-read the last 100 records of each partition', command: '<%= config.bin %> <%= command.id %> billing --shift-by -100 --execute'},
  ]

  static override args = {group: Args.string({description: 'Consumer group.', required: true})}
  static override flags = {
    to: positionFlag({summary: 'The position to move to.'}),
    'shift-by': shiftByFlag({summary: 'Move the committed offsets by this many records.'}),
    topic: Flags.string({char: 't', summary: 'Only this topic (repeatable); the group need not have offsets for it yet.', multiple: true}),
    execute: Flags.boolean({summary: 'Apply the plan. Without it nothing changes.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(GroupReset)
    oneResetTarget(flags)
    const to = flags.to
    const backend = await this.openBackend(flags, flags.execute ? 'write' : 'read')
    const plan = await planReset(backend, args.group, {to, shiftBy: flags['shift-by'], topics: flags.topic})
    if (flags.execute) await applyReset(backend, args.group, plan)
    if (!this.jsonEnabled())
      this.streams.out.write(
        renderTable(
          ['TOPIC', 'PARTITION', 'CURRENT', 'NEW'],
          plan.map((r) => [r.topic, r.partition, r.current === null ? '-' : String(r.current), r.target]),
        ),
      )
    this.streams.err.write(
      flags.execute
        ? `spool: reset consumer group '${args.group}' on ${plan.length} partition${plan.length === 1 ? '' : 's'}\n`
        : 'spool: dry run, nothing changed; add --execute to apply\n',
    )
    return plan.map((row) => ({...row, applied: Boolean(flags.execute)}))
  }
}
