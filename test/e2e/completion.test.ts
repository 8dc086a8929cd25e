import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, run, tempHome} from '../helpers/cli.js'

// The completion scripts run in the real shells (bash, zsh and fish from Debian), calling the built CLI.
let t: ReturnType<typeof tempHome>
let env: NodeJS.ProcessEnv

beforeEach(async () => {
  t = tempHome()
  // `spool` on the PATH, as users have it after npm link.
  const binDir = join(t.home, 'bin')
  mkdirSync(binDir)
  writeFileSync(join(binDir, 'spool'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`)
  chmodSync(join(binDir, 'spool'), 0o755)
  env = {...t.env, PATH: `${binDir}:${process.env.PATH}`, SPOOL_CONFIG_HOME: join(t.home, 'config')}
  await run(['produce', 'orders'], {env, input: 'a\n'})
  await run(['produce', 'other'], {env, input: 'b\n'})
  await run(['consume', 'orders', '-g', 'billing'], {env})
})
afterEach(() => t.cleanup())

/** COMPREPLY for a command line typed up to its end, through the bash script. */
function bash(line: string): string[] {
  const words = line.split(' ')
  const script = `source <(spool completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_spool_complete; printf '%s\\n' "\${COMPREPLY[@]}"`
  return execFileSync('bash', ['-c', script], {env, encoding: 'utf8'}).split('\n').filter(Boolean)
}

describe('shell completion', () => {
  it('bash completes commands, verbs, flags, and topic and group names from the store', () => {
    expect(bash('spool co')).toEqual(['completion', 'consume', 'context', 'count'])
    expect(bash('spool group ')).toEqual(['delete', 'describe', 'list', 'reset'])
    expect(bash('spool consume o')).toEqual(['orders', 'other'])
    expect(bash('spool consume --fo')).toEqual(['--follow', '--format'])
    expect(bash('spool consume orders -g ')).toEqual(['billing'])
    expect(bash('spool group describe ')).toEqual(['billing'])
    expect(bash('spool topic create ')).toEqual([])
  })

  it('names come from the backend the command line names', async () => {
    const other = join(t.home, 'other.db')
    await run(['produce', 'elsewhere', '-b', `file:${other}`], {env, input: 'x\n'})
    expect(bash(`spool consume -b file:${other} `)).toEqual(['elsewhere'])
  })

  it('zsh and fish load their scripts and complete topic names', () => {
    const zsh = execFileSync('zsh', ['-c', `autoload -U compinit && compinit -u -D; source <(spool completion zsh) && whence -w _spool_complete && spool __complete consume or`], {env, encoding: 'utf8'})
    expect(zsh).toMatch(/_spool_complete: function/)
    expect(zsh).toMatch(/orders/)
    const fish = execFileSync('fish', ['-c', `spool completion fish | source; complete -C'spool consume or'`], {env, encoding: 'utf8'})
    expect(fish.split('\n').filter(Boolean)).toEqual(['orders'])
  })

  it('never creates a store, and prints nothing for an unreachable backend', async () => {
    const fresh = tempHome()
    try {
      const result = await run(['__complete', 'consume', ''], {env: fresh.env})
      expect(result.stdout.toString()).toBe('')
      expect(execFileSync('ls', ['-A', fresh.home], {encoding: 'utf8'})).toBe('')
      const kafka = await run(['__complete', 'consume', '-b', 'kafka://127.0.0.1:1', ''], {env: fresh.env})
      expect([kafka.code, kafka.stdout.toString(), kafka.stderr]).toEqual([0, '', ''])
    } finally {
      fresh.cleanup()
    }
  })
})
