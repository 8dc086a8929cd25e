import {spawnSync} from 'node:child_process'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, run, tempHome} from '../helpers/cli.js'

// Colour is for people at a terminal: script(1) gives the command a real pty.
let t: ReturnType<typeof tempHome>
const ESC = '\u001B['

function inTerminal(args: string, env: Record<string, string> = {}): string {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')
  // spawnSync, not execFileSync: a command that fails (exit 1) still shows what it printed.
  return spawnSync('script', ['-qec', `stty cols 120 rows 30; ${vars}'${process.execPath}' '${BIN}' ${args}`, '/dev/null'], {
    env: {...t.env, TERM: 'xterm-256color'},
    encoding: 'utf8',
  }).stdout
}

beforeEach(async () => {
  t = tempHome()
  delete t.env.NO_COLOR
  await run(['produce', 'orders'], {env: t.env, input: 'a\n'})
})
afterEach(() => t.cleanup())

describe('colour', () => {
  it('tables, describe and the error prefix are coloured on a terminal, plainly', () => {
    expect(inTerminal('topic list')).toContain(`${ESC}1mTOPIC`)
    expect(inTerminal('topic describe orders')).toMatch(/\u001B\[2mTopic:\s+\u001B\[22m\u001B\[1morders/)
    expect(inTerminal('consume ghost')).toContain(`${ESC}31mspool:${ESC}39m topic 'ghost' does not exist`)
    // Data is never painted: the records come out as they went in.
    expect(inTerminal('consume orders')).toBe('a\r\n')
  })

  it('honours NO_COLOR on a terminal, and FORCE_COLOR into a pipe', async () => {
    expect(inTerminal('topic list', {NO_COLOR: '1'})).not.toContain(ESC)
    expect(inTerminal('consume ghost', {NO_COLOR: '1'})).not.toContain(ESC)
    const piped = await run(['topic', 'list'], {env: t.env})
    expect(piped.stdout.toString()).not.toContain(ESC)
    const forced = await run(['topic', 'list'], {env: {...t.env, FORCE_COLOR: '1'}})
    expect(forced.stdout.toString()).toContain(`${ESC}1mTOPIC`)
  })
})
