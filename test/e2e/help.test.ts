import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ROOT, run, sh, tempHome} from '../helpers/cli.js'

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {hidden?: boolean}>}
const commands = Object.entries(manifest.commands)
  .filter(([, command]) => !command.hidden)
  .map(([id]) => id)

describe('--help', () => {
  it('into a reader that stops at once (`| true`, `| head -1`) ends with status 0 and nothing on stderr', async () => {
    const t = tempHome()
    try {
      for (const args of ['--help', 'consume --help', 'topic']) {
        const result = await sh(`$bin ${args} | true; echo "status=\${PIPESTATUS[0]}" >&2`, {env: t.env})
        expect(result.stderr.toString(), args).toBe('status=0\n')
      }
    } finally {
      t.cleanup()
    }
  })

  it('covers the commands users rely on', () => {
    for (const id of ['produce', 'consume', 'tail', 'replay', 'pipe', 'topic:create', 'topic:list', 'topic:describe', 'topic:delete', 'group:list', 'group:describe', 'group:reset', 'group:delete'])
      expect(commands).toContain(id)
  })

  it.each(commands)('%s --help exits 0 and shows usage and examples', async (id) => {
    const t = tempHome()
    try {
      const result = await run([...id.split(':'), '--help'], {env: t.env})
      expect(result.code).toBe(0)
      const text = result.stdout.toString()
      expect(text).toContain(`$ spool ${id.replaceAll(':', ' ')}`)
      expect(text).toMatch(/\nEXAMPLES\n/)
    } finally {
      t.cleanup()
    }
  })

  it('spool --version prints the version', async () => {
    const t = tempHome()
    const result = await run(['--version'], {env: t.env})
    t.cleanup()
    expect(result.code).toBe(0)
    expect(result.stdout.toString()).toMatch(/^spool\/\d+\.\d+\.\d+ /)
  })

  it('an unknown flag is a usage error with exit 2 and one line', async () => {
    const t = tempHome()
    const result = await run(['consume', 'x', '--bogus'], {env: t.env})
    t.cleanup()
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/^spool: .*--bogus/)
  })

  it.each([
    [['help', 'consume'], ['consume', '--help']],
    [['consume', '-h'], ['consume', '--help']],
    [['help', 'topic', 'create'], ['topic', 'create', '--help']],
    [['help'], ['--help']],
    [['-h'], ['--help']],
    [['version'], ['--version']],
  ])('%j prints what %j prints', async (asked, same) => {
    const t = tempHome()
    const [a, b] = [await run(asked, {env: t.env}), await run(same, {env: t.env})]
    t.cleanup()
    expect([a.code, a.stderr]).toEqual([0, ''])
    expect(a.stdout.toString()).toBe(b.stdout.toString())
    expect(a.stdout.length).toBeGreaterThan(10)
  })

  it.each([
    [['bogus'], 'bogus'],
    [['bogus', '--help'], 'bogus'],
    [['help', 'bogus'], 'bogus'],
    [['topic', 'bogus'], 'topic bogus'],
  ])('an unknown command (%j) is a usage error with exit 2 and one line in spool\'s form', async (args, name) => {
    const t = tempHome()
    const result = await run(args, {env: t.env})
    t.cleanup()
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(`spool: there is no command '${name}' (see the commands with: spool --help)\n`)
  })
})
