import {Args, Flags} from '@oclif/core'
import {readContexts, requireContext, writeContexts} from '../../src/backends/contexts.js'
import {SpoolCommand, printJson} from '../../src/cli/base-command.js'

export default class ContextRemove extends SpoolCommand {
  static override summary = 'Forget a named cluster and its stored secrets.'
  static override examples = ['<%= config.bin %> <%= command.id %> staging']
  static override args = {name: Args.string({description: 'Context name.', required: true})}
  static override flags = {json: Flags.boolean({summary: 'Print what was removed as JSON.'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ContextRemove)
    const file = readContexts()
    requireContext(file, args.name)
    delete file.contexts[args.name]
    if (file.current === args.name) delete file.current
    writeContexts(file)
    if (flags.json) printJson({removed: args.name})
    else this.streams.err.write(`spool: context '${args.name}' removed\n`)
  }
}
