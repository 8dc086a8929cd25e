import {Args, Flags} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {registryFlags} from '../../src/cli/registry.js'

export default class SchemaDelete extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Delete a subject, or one version of it.'
  static override description = 'Schemas keep their ids: records framed with them still decode (a deleted version is only no longer listed), as with a registry server\'s soft delete.'
  static override examples = ['<%= config.bin %> <%= command.id %> orders-value', '<%= config.bin %> <%= command.id %> orders-value --version 2']
  static override args = {subject: Args.string({description: 'Subject to delete.', required: true})}
  static override flags = {
    version: Flags.integer({summary: 'Only this version.', min: 1}),
    ...registryFlags,
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(SchemaDelete)
    const registry = await this.openSchemaRegistry(flags, 'write')
    const deleted = await registry.deleteSubject(args.subject, flags.version)
    if (this.jsonEnabled()) return {subject: args.subject, deleted}
    this.streams.err.write(`spool: deleted ${args.subject} version${deleted.length === 1 ? '' : 's'} ${deleted.join(', ')} from ${registry.location}\n`)
  }
}
