import {existsSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {run, sh, tempHome} from '../helpers/cli.js'

// /dev/full refuses every write with ENOSPC: a full disk under `spool consume T > out`.
describe.runIf(existsSync('/dev/full'))('a write to stdout that fails (a full disk)', () => {
  it('ends every kind of command with one line and status 1, no stack trace', async () => {
    const t = tempHome()
    try {
      const lines = Array.from({length: 50_000}, (_, i) => `line ${i}`).join('\n')
      expect((await run(['produce', 't'], {env: t.env, input: lines})).code).toBe(0)
      // consume's writers (plain lines, --json, a format), a command's own table, count, oclif's help; and
      // follows, which must not go on waiting for new records after their first write failed.
      for (const args of ['consume t', 'consume t --json', "consume t --format '%o %v\\n'", 'topic list', 'count t', '--help', 'topic', '--version', 'tail t -n 5', 'consume t -f']) {
        const result = await sh(`$bin ${args} > /dev/full`, {env: t.env})
        expect(result.code, args).toBe(1)
        expect(result.stderr, args).toMatch(/^spool: cannot write the output: ENOSPC: no space left on device[^\n]*\n$/)
      }
    } finally {
      t.cleanup()
    }
  })

  it('a consumer group commits nothing it could not write', async () => {
    const t = tempHome()
    try {
      const lines = Array.from({length: 50_000}, (_, i) => `line ${i}`).join('\n')
      expect((await run(['produce', 't'], {env: t.env, input: lines})).code).toBe(0)
      const failed = await sh('$bin consume t -g g > /dev/full', {env: t.env})
      expect(failed.code).toBe(1)
      const again = await run(['consume', 't', '-g', 'g', '-c', '2'], {env: t.env})
      expect(again.code).toBe(0)
      expect(again.stdout.toString()).toBe('line 0\nline 1\n')
    } finally {
      t.cleanup()
    }
  })
})
