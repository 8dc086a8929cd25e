import {Args} from '@oclif/core'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {registryFlags} from '../../src/cli/registry.js'
import {renderTable} from '../../src/cli/table.js'

export default class SchemaList extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'List the subjects of a schema registry, or the versions of one subject.'
  static override description = 'The registry is the one --registry, SPOOL_REGISTRY or the context names; on a local store without one, the store itself.'
  static override examples = [
    {description: 'The local store\'s own subjects', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The versions of one subject in a registry', command: '<%= config.bin %> <%= command.id %> orders-value --registry http://localhost:8081'},
  ]
  static override args = {subject: Args.string({description: 'List the versions of this subject.'})}
  static override flags = {...registryFlags}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(SchemaList)
    const registry = await this.openSchemaRegistry(flags, 'read')
    if (args.subject) {
      const versions = await Promise.all((await registry.versions(args.subject)).map((v) => registry.subjectVersion(args.subject!, v)))
      const rows = versions.map((v) => ({subject: v.subject, version: v.version, id: v.id, type: v.type}))
      if (this.jsonEnabled()) return rows
      this.streams.out.write(renderTable(['VERSION', 'ID', 'TYPE'], rows.map((r) => [r.version, r.id, r.type])))
      return
    }
    const subjects = await Promise.all(
      (await registry.subjects()).map(async (subject) => {
        const latest = await registry.subjectVersion(subject, 'latest')
        return {subject, versions: (await registry.versions(subject)).length, latest: latest.version, id: latest.id, type: latest.type}
      }),
    )
    if (this.jsonEnabled()) return subjects
    if (subjects.length === 0) {
      this.streams.err.write(`spool: no schemas in ${registry.location}\n`)
      return
    }
    this.streams.out.write(renderTable(['SUBJECT', 'VERSIONS', 'LATEST', 'ID', 'TYPE'], subjects.map((s) => [s.subject, s.versions, s.latest, s.id, s.type])))
  }
}
