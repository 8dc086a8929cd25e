import {Args} from '@oclif/core'
import {SpoolCommand} from '../src/cli/base-command.js'
import {completionScript} from '../src/cli/completion.js'

export default class Completion extends SpoolCommand {
  static override summary = 'Print a shell completion script (bash, zsh or fish), with topic and group names from the backend.'
  static override examples = [
    {description: 'bash, in ~/.bashrc', command: 'source <(<%= config.bin %> <%= command.id %> bash)'},
    {description: 'zsh, in ~/.zshrc', command: 'source <(<%= config.bin %> <%= command.id %> zsh)'},
    {description: 'fish', command: '<%= config.bin %> <%= command.id %> fish > ~/.config/fish/completions/<%= config.bin %>.fish'},
  ]
  static override args = {shell: Args.string({description: 'The shell.', required: true, options: ['bash', 'zsh', 'fish']})}

  async run(): Promise<void> {
    const {args} = await this.parse(Completion)
    this.streams.out.write(completionScript(args.shell as 'bash' | 'zsh' | 'fish', this.config.bin))
  }
}
