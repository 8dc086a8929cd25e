import {contextsPath, readContexts} from '../../src/backends/contexts.js'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {renderTable} from '../../src/cli/table.js'

export default class ContextList extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'List the named clusters; the current one is marked. Secrets are never shown.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<unknown> {
    await this.parse(ContextList)
    const file = readContexts()
    const rows = Object.entries(file.contexts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, c]) => ({
        name,
        current: name === file.current,
        broker: c.broker,
        auth: c.settings?.sasl ? `${c.settings.sasl.mechanism} ${c.settings.sasl.username}${c.settings.sasl.password ? ' (password stored)' : ''}` : 'none',
        tls: c.settings?.tls ? (c.settings.tls.insecure ? 'on, unverified' : 'on') : 'off',
      }))
    if (this.jsonEnabled()) return rows
    if (rows.length === 0) {
      this.streams.err.write(`spool: no contexts in ${contextsPath()} (add one with: spool context add NAME -b kafka://host:9092)\n`)
      return
    }
    this.streams.out.write(renderTable(['', 'NAME', 'BROKER', 'AUTH', 'TLS'], rows.map((r) => [r.current ? '*' : '', r.name, r.broker, r.auth, r.tls])))
  }
}
