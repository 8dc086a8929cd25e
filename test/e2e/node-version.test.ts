import {execFileSync, spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {BIN, ROOT, tempHome} from '../helpers/cli.js'

// On a Node older than spool's floor, spool says so in one line instead of failing inside a dependency.
// Node 20 comes from the npm registry through the project's own script (cached in ~/.cache/spool-node).
describe('an end-of-life Node', () => {
  it('gets one line naming the Node spool needs, and exit 1', {timeout: 180_000}, () => {
    const prefix = execFileSync(join(ROOT, 'scripts', 'node-line.sh'), ['20', '--prefix'], {encoding: 'utf8'}).trim()
    const node = join(prefix, 'bin', 'node')
    const version = execFileSync(node, ['--version'], {encoding: 'utf8'}).trim().slice(1)
    const t = tempHome()
    try {
      for (const args of [['--version'], ['produce', 't'], ['topic', 'list']]) {
        const result = spawnSync(node, [BIN, ...args], {env: t.env, input: 'x\n', encoding: 'utf8'})
        expect(result.stderr).toBe(`spool needs Node 22.22 or newer; this is Node ${version}\n`)
        expect(result.stdout).toBe('')
        expect(result.status).toBe(1)
      }
    } finally {
      t.cleanup()
    }
  })
})
