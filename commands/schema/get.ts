import {Args, Flags} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {registryFlags} from '../../src/cli/registry.js'
import {UsageError} from '../../src/core/errors.js'
import type {RegisteredSchema} from '../../src/schemas/types.js'

export default class SchemaGet extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Print a schema: a subject\'s version (latest by default) or the schema with an id.'
  static override examples = [
    {description: 'The latest schema of a subject', command: '<%= config.bin %> <%= command.id %> orders-value'},
    {description: 'Version 2', command: '<%= config.bin %> <%= command.id %> orders-value:2'},
    {description: 'By id (the id framed records carry), with its subject and references', command: '<%= config.bin %> <%= command.id %> --id 7 --json'},
  ]
  static override args = {subject: Args.string({description: 'SUBJECT or SUBJECT:VERSION.'})}
  static override flags = {
    id: Flags.integer({summary: 'The schema with this id instead of a subject.', min: 0, exclusive: ['subject']}),
    ...registryFlags,
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(SchemaGet)
    if ((args.subject === undefined) === (flags.id === undefined)) throw new UsageError('name a SUBJECT[:VERSION] or an --id', 'e.g. spool schema get orders-value')
    const registry = await this.openSchemaRegistry(flags, 'read')
    let schema: RegisteredSchema & {subject?: string; version?: number}
    if (flags.id !== undefined) schema = await registry.schemaById(flags.id)
    else {
      const match = /^(.+?)(?::(\d+|latest))?$/.exec(args.subject!)!
      schema = await registry.subjectVersion(match[1]!, match[2] === undefined || match[2] === 'latest' ? 'latest' : Number(match[2]))
    }
    const {id, type, references} = schema
    if (this.jsonEnabled()) return {subject: schema.subject, version: schema.version, id, type, schema: schema.schema, references}
    this.streams.out.write(schema.schema.endsWith('\n') ? schema.schema : `${schema.schema}\n`)
  }
}
