import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, run, tempHome} from '../helpers/cli.js'

// Progress is drawn on stderr only when stderr is a terminal. `script` gives the command a real
// pseudo-terminal; stdout goes to a file so that what reaches it can be checked apart.
let t: ReturnType<typeof tempHome>

function inTerminal(args: string, stdoutFile: string): string {
  // A pty from script(1) has no size until one is set, as a terminal window would have.
  const command = `stty cols 120 rows 30; '${process.execPath}' '${BIN}' ${args} > '${stdoutFile}'`
  return execFileSync('script', ['-qec', command, '/dev/null'], {env: {...t.env, TERM: 'xterm'}, encoding: 'utf8'})
}

beforeEach(async () => {
  t = tempHome()
  await run(['produce', 'big'], {env: t.env, input: Array.from({length: 50_000}, (_, i) => `record ${i}`).join('\n')})
})
afterEach(() => t.cleanup())

describe('progress', () => {
  it('pipe and replay --to show records done and total on a terminal, and nothing on stdout', () => {
    const out = join(t.home, 'out.txt')
    const piped = inTerminal('pipe big copy', out)
    expect(piped).toMatch(/copying big → copy\s+[\d,]+ \/ 50,000 records/)
    expect(piped).toMatch(/copied 50000 of 50000 records/)
    expect(readFileSync(out, 'utf8')).toBe('')
    const replayed = inTerminal('replay big --speed max --to again', out)
    expect(replayed).toMatch(/replaying big → again\s+[\d,]+ \/ 50,000 records/)
    expect(readFileSync(out, 'utf8')).toBe('')
  })

  it('draws nothing on a terminal that reports no size', () => {
    const out = join(t.home, 'out.txt')
    const command = `stty cols 0 rows 0; '${process.execPath}' '${BIN}' pipe big sized > '${out}'`
    const shown = execFileSync('script', ['-qec', command, '/dev/null'], {env: {...t.env, TERM: 'xterm'}, encoding: 'utf8'})
    expect(shown).not.toMatch(/copying/)
    expect(shown).toMatch(/copied 50000 of 50000/)
  })

  it('prints no progress at all when stderr is not a terminal', async () => {
    const piped = await run(['pipe', 'big', 'copy'], {env: t.env})
    expect(piped.stderr).toBe("spool: created topic 'copy' (1 partition) in " + t.store + '\nspool: copied 50000 of 50000 records from big to copy\n')
    const bench = await run(['bench', '--records', '2000', '--latency-samples', '5'], {env: t.env})
    expect(bench.stderr).toBe('')
  })
})
