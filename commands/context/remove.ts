import {Args} from '@oclif/core'
import {readContexts, writeContexts} from '../../src/backends/contexts.js'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {UsageError} from '../../src/core/errors.js'

export default class ContextRemove extends SpoolCommand {
  static override summary = 'Forget a named cluster and its stored secrets.'
  static override examples = ['<%= config.bin %> <%= command.id %> staging']
  static override args = {name: Args.string({description: 'Context name.', required: true})}

  async run(): Promise<void> {
    const {args} = await this.parse(ContextRemove)
    const file = readContexts()
    if (!file.contexts[args.name]) throw new UsageError(`no context named '${args.name}'`, 'see them with: spool context list')
    delete file.contexts[args.name]
    if (file.current === args.name) delete file.current
    writeContexts(file)
    process.stderr.write(`spool: context '${args.name}' removed\n`)
  }
}
