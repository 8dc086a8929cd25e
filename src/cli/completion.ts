/**
 * Shell completion: the scripts spool prints for bash, zsh and fish all ask `spool __complete WORDS...`
 * for candidates, so the logic lives once, here, and topic and group names come from the backend the
 * typed command line names (-b, --context).
 */
export interface CommandShape {
  id: string
  hidden?: boolean
  args: string[]
  flags: {name: string; char?: string; takesValue: boolean}[]
}

export interface NameSources {
  topics: () => Promise<string[]>
  groups: () => Promise<string[]>
  contexts: () => string[]
}

/** What an argument or flag value names, by command and argument. */
function argumentKind(commandId: string, index: number, argName: string): 'topic' | 'group' | 'context' | undefined {
  if (commandId.startsWith('group:')) return index === 0 ? 'group' : undefined
  if (commandId === 'context:use' || commandId === 'context:remove') return 'context'
  if (commandId.startsWith('context:')) return undefined
  if (commandId === 'topic:create') return undefined
  if (argName === 'topic' || argName === 'name' || argName === 'source' || argName === 'destination') return 'topic'
  return undefined
}

function flagKind(flag: string): 'topic' | 'group' | 'context' | undefined {
  if (flag === 'group' || flag === 'g') return 'group'
  if (flag === 'context') return 'context'
  if (flag === 'topic' || flag === 'to') return 'topic'
  return undefined
}

/**
 * Candidates for the last word of `words` (the words after `spool`, the last one being typed, maybe
 * empty). Commands are matched with spaces between topic and verb, as users type them.
 */
export async function complete(words: string[], commands: CommandShape[], names: NameSources): Promise<string[]> {
  const current = words.at(-1) ?? ''
  const before = words.slice(0, -1)
  const visible = commands.filter((c) => !c.hidden)
  // The longest command id that the typed words spell.
  let command: CommandShape | undefined
  let used = 0
  for (let n = Math.min(before.length, 3); n > 0; n--) {
    const id = before.slice(0, n).join(':')
    command = visible.find((c) => c.id === id)
    if (command) {
      used = n
      break
    }
  }
  const starting = (items: Iterable<string>) => [...new Set(items)].filter((item) => item.startsWith(current)).sort()
  if (!command) {
    const prefix = before.join(':')
    const next = visible
      .filter((c) => (prefix ? c.id.startsWith(`${prefix}:`) : true))
      .map((c) => c.id.split(':')[before.length])
      .filter((w): w is string => Boolean(w))
    return starting(next)
  }
  const rest = before.slice(used)
  const previous = rest.at(-1)
  if (previous?.startsWith('-')) {
    const name = previous.replace(/^--?/, '')
    const flag = command.flags.find((f) => f.name === name || f.char === name)
    if (flag?.takesValue) {
      const kind = flagKind(name === flag.char ? name : flag.name)
      return kind ? starting(await source(kind, names)) : []
    }
  }
  if (current.startsWith('-')) return starting(command.flags.map((f) => `--${f.name}`))
  // Which positional argument is being typed: words that are neither flags nor flag values.
  let position = 0
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!
    if (word.startsWith('-')) {
      const flag = command.flags.find((f) => f.name === word.replace(/^--?/, '') || f.char === word.replace(/^-/, ''))
      if (flag?.takesValue && !word.includes('=')) i++
      continue
    }
    position++
  }
  const argName = command.args[Math.min(position, command.args.length - 1)]
  if (argName === undefined) return []
  const kind = argumentKind(command.id, position, argName)
  return kind ? starting(await source(kind, names)) : []
}

async function source(kind: 'topic' | 'group' | 'context', names: NameSources): Promise<string[]> {
  try {
    if (kind === 'topic') return await names.topics()
    if (kind === 'group') return await names.groups()
    return names.contexts()
  } catch {
    // Completion never prints errors into the user's prompt: no backend, no names.
    return []
  }
}

export function completionScript(shell: 'bash' | 'zsh' | 'fish', bin: string): string {
  if (shell === 'bash')
    return `# spool completion for bash: add to ~/.bashrc:  source <(${bin} completion bash)
_${bin}_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(${bin} __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _${bin}_complete ${bin}
`
  if (shell === 'zsh')
    return `#compdef ${bin}
# spool completion for zsh: add to ~/.zshrc:  source <(${bin} completion zsh)
_${bin}_complete() {
  local -a candidates
  candidates=("\${(@f)$(${bin} __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -- \${candidates:#}
}
compdef _${bin}_complete ${bin}
`
  return `# spool completion for fish: save as ~/.config/fish/completions/${bin}.fish
#   ${bin} completion fish > ~/.config/fish/completions/${bin}.fish
complete -c ${bin} -f -a '(${bin} __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`
}
