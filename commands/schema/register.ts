import {Args, Flags} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {registryFlags} from '../../src/cli/registry.js'

export default class SchemaRegister extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Register a schema file (.avsc, .proto, .json) under a subject.'
  static override description = `The same schema registered again keeps its id and version. A .proto's imports are registered too, each under its import path, and referenced. Produce registers by itself (under TOPIC-value and TOPIC-key); this is for registering ahead, or under other subjects.`
  static override examples = [
    {description: 'In the local store', command: '<%= config.bin %> <%= command.id %> orders-value order.avsc'},
    {description: 'In a registry', command: '<%= config.bin %> <%= command.id %> orders-value order.proto --registry http://localhost:8081'},
  ]
  static override args = {
    subject: Args.string({description: 'Subject to register under (Kafka convention: TOPIC-value, TOPIC-key).', required: true}),
    file: Args.string({description: 'Schema file: .avsc (Avro), .proto (Protobuf) or .json (JSON Schema).', required: true}),
  }
  static override flags = {
    message: Flags.string({summary: 'Protobuf: check that the file defines this message.'}),
    ...registryFlags,
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(SchemaRegister)
    const registry = await this.openSchemaRegistry(flags, 'write')
    const {readSchemaFile} = await import('../../src/schemas/schema-file.js')
    const file = await readSchemaFile(args.file, registry, {register: true, messageName: flags.message})
    const id = await registry.register(args.subject, file.schema)
    const version = (await registry.lookup(args.subject, file.schema))?.version
    if (this.jsonEnabled()) return {subject: args.subject, version, id, type: file.schema.type}
    this.streams.err.write(`spool: ${args.file} is ${args.subject} version ${version ?? '?'}, schema id ${id}, in ${registry.location}\n`)
  }
}
