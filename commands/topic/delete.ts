import {createInterface} from 'node:readline/promises'
import {Args, Flags} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {UsageError} from '../../src/core/errors.js'

export default class TopicDelete extends SpoolCommand {
  static override summary = 'Delete a topic and all its records.'
  static override description = 'Asks for confirmation on a terminal; scripts must pass --yes.'
  static override examples = ['<%= config.bin %> <%= command.id %> clicks --yes']
  static override args = {name: Args.string({description: 'Topic name.', required: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', summary: 'Delete without asking.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(TopicDelete)
    const backend = await this.openBackend(flags, 'write')
    const info = await backend.describeTopic(args.name)
    if (!flags.yes) {
      if (!process.stdin.isTTY || !process.stderr.isTTY)
        throw new UsageError(`refusing to delete topic '${args.name}' without confirmation`, 'pass --yes')
      const records = info.partitionInfo.reduce((n, p) => n + p.end - p.start, 0)
      const prompt = createInterface({input: process.stdin, output: process.stderr})
      const answer = await prompt.question(`Delete topic '${args.name}' and its ${records} records? [y/N] `)
      prompt.close()
      if (!/^y(es)?$/i.test(answer.trim())) {
        process.stderr.write('spool: nothing deleted\n')
        return
      }
    }
    await backend.deleteTopic(args.name)
    process.stderr.write(`spool: deleted topic '${args.name}'\n`)
  }
}
