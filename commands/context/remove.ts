import {Args} from '@oclif/core'
import {readContexts, requireContext, writeContexts} from '../../src/backends/contexts.js'
import {SpoolCommand} from '../../src/cli/base-command.js'

export default class ContextRemove extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Forget a named cluster and its stored secrets.'
  static override examples = ['<%= config.bin %> <%= command.id %> staging']
  static override args = {name: Args.string({description: 'Context name.', required: true})}

  async run(): Promise<unknown> {
    const {args} = await this.parse(ContextRemove)
    const file = readContexts()
    requireContext(file, args.name)
    delete file.contexts[args.name]
    if (file.current === args.name) delete file.current
    writeContexts(file)
    if (this.jsonEnabled()) return {removed: args.name}
    this.streams.err.write(`spool: context '${args.name}' removed\n`)
  }
}
