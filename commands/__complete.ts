import {readContexts} from '../src/backends/contexts.js'
import type {Backend} from '../src/core/backend.js'
import {resolveBrokerAddress, SpoolCommand} from '../src/cli/base-command.js'
import {type CommandShape, complete} from '../src/cli/completion.js'
import {openBackend} from '../src/backends/index.js'

/** What the completion scripts call: candidates for the last word, one per line. */
export default class Complete extends SpoolCommand {
  static override hidden = true
  static override strict = false
  static override summary = 'Completion candidates for the words typed so far (used by the completion scripts).'

  async run(): Promise<void> {
    const words = this.argv
    const commands: CommandShape[] = this.config.commands.map((c) => ({
      id: c.id,
      hidden: c.hidden,
      args: Object.keys(c.args ?? {}),
      flags: Object.entries(c.flags ?? {}).map(([name, flag]) => ({name, char: (flag as {char?: string}).char, takesValue: flag.type === 'option'})),
    }))
    // The backend the typed command would use: its -b/--broker and --context, as the command would read them.
    const valueOf = (...names: string[]) => {
      for (let i = 0; i < words.length - 1; i++) if (names.includes(words[i]!)) return words[i + 1]
      return undefined
    }
    const address = () => resolveBrokerAddress({broker: valueOf('-b', '--broker') ?? process.env.SPOOL_BROKER, context: valueOf('--context') ?? process.env.SPOOL_CONTEXT})
    const withBackend = async <T>(fn: (b: Backend) => Promise<T>) => {
      // Completing never creates a store: a store opened for reading is read-only.
      const b = await openBackend(address(), {access: 'read', timeoutMs: 3000})
      try {
        return await fn(b)
      } finally {
        await b.close()
      }
    }
    const candidates = await complete(words, commands, {
      topics: () => withBackend(async (b) => (await b.listTopics()).map((t) => t.name)),
      groups: () => withBackend((b) => b.listGroups()),
      contexts: () => Object.keys(readContexts().contexts),
    })
    if (candidates.length > 0) this.streams.out.write(`${candidates.join('\n')}\n`)
  }
}
