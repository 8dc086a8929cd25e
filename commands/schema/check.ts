import {Args} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {registryFlags} from '../../src/cli/registry.js'

export default class SchemaCheck extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Check whether a schema file is compatible with the latest version of a subject.'
  static override description = `Exit 0 when it could be registered as the next version, 1 when it could not (with the reasons), 2 on usage errors. A registry server judges by its configured compatibility; the local store by BACKWARD (the new schema reads what the latest one wrote).`
  static override examples = [
    {description: 'Before deploying a new producer', command: '<%= config.bin %> <%= command.id %> orders-value order-v2.avsc && echo safe'},
  ]
  static override args = {
    subject: Args.string({description: 'Subject whose latest version the file is checked against.', required: true}),
    file: Args.string({description: 'Schema file: .avsc, .proto or .json.', required: true}),
  }
  static override flags = {...registryFlags}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(SchemaCheck)
    const registry = await this.openSchemaRegistry(flags, 'read')
    const {readSchemaFile} = await import('../../src/schemas/schema-file.js')
    const file = await readSchemaFile(args.file, registry, {register: false})
    const verdict = await registry.checkCompatibility(args.subject, file.schema)
    if (!verdict.compatible) this.setExitCode(1)
    if (this.jsonEnabled()) return {subject: args.subject, file: args.file, ...verdict}
    this.streams.out.write(
      verdict.compatible
        ? `${args.file} is compatible with ${args.subject}\n`
        : `${args.file} is not compatible with ${args.subject}\n${verdict.messages.map((m) => `  ${m}\n`).join('')}`,
    )
  }
}
