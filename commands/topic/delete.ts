import {createInterface} from 'node:readline/promises'
import {Args, Flags} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {SpoolError, UnknownTopicError, UsageError} from '../../src/core/errors.js'
import {validateTopicName} from '../../src/core/topic-name.js'

export default class TopicDelete extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Delete a topic and all its records.'
  static override description = 'Asks for confirmation on a terminal; scripts must pass --yes.'
  static override examples = ['<%= config.bin %> <%= command.id %> clicks --yes']
  static override args = {name: Args.string({description: 'Topic name.', required: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', summary: 'Delete without asking.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TopicDelete)
    validateTopicName(args.name)
    // Looked up read-only first: deleting a topic that is not there must not create a store.
    const reader = await this.openBackend(flags, 'read')
    const info = await reader.describeTopic(args.name).catch((error: unknown) => {
      throw error instanceof UnknownTopicError ? new SpoolError(error.message, {hint: 'see the topics with: spool topic list'}) : error
    })
    if (!flags.yes) {
      if (!process.stdin.isTTY || !this.streams.errIsTTY)
        throw new UsageError(`refusing to delete topic '${args.name}' without confirmation`, 'pass --yes')
      const prompt = createInterface({input: process.stdin, output: this.streams.err})
      const answer = await prompt.question(`Delete topic '${args.name}' and its ${info.partitionInfo.reduce((n, p) => n + p.end - p.start, 0)} records? [y/N] `)
      prompt.close()
      if (!/^y(es)?$/i.test(answer.trim())) {
        this.streams.err.write('spool: nothing deleted\n')
        return
      }
    }
    const backend = reader.kind === 'local' ? await this.openBackend(flags, 'write') : reader
    await backend.deleteTopic(args.name)
    const records = info.partitionInfo.reduce((n, p) => n + p.end - p.start, 0)
    if (this.jsonEnabled()) return {deleted: args.name, partitions: info.partitions, records}
    this.streams.err.write(`spool: deleted topic '${args.name}'\n`)
  }
}
