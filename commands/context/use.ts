import {Args, Flags} from '@oclif/core'
import {readContexts, requireContext, writeContexts} from '../../src/backends/contexts.js'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {UsageError} from '../../src/core/errors.js'

export default class ContextUse extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Make a context current: commands without -b then talk to its cluster.'
  static override examples = ['<%= config.bin %> <%= command.id %> prod', '<%= config.bin %> <%= command.id %> --none   # back to the local store']
  static override args = {name: Args.string({description: 'Context name (omit with --none).'})}
  static override flags = {
    none: Flags.boolean({summary: 'Use no context: commands without -b use the local store again.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(ContextUse)
    const file = readContexts()
    if (flags.none) {
      delete file.current
      writeContexts(file)
      if (this.jsonEnabled()) return {current: null}
      this.streams.err.write('spool: no context in use; commands without -b use the local store\n')
      return
    }
    if (!args.name) throw new UsageError('missing NAME', 'give a context name, or --none')
    const context = requireContext(file, args.name)
    file.current = args.name
    writeContexts(file)
    if (this.jsonEnabled()) return {current: args.name, broker: context.broker}
    this.streams.err.write(`spool: now using context '${args.name}' (${context.broker})\n`)
  }
}
