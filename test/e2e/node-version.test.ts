import {execFileSync, spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {BIN, ROOT, tempHome} from '../helpers/cli.js'

/**
 * A Node older than spool's floor: the machine's own where it has one (this project's machines have Node
 * 20 in /usr/bin), else Node 20 from the npm registry through the project's script (~/.cache/spool-node).
 */
function oldNode(): {node: string; version: string} {
  for (const node of ['/usr/bin/node', '/usr/local/bin/node']) {
    const found = spawnSync(node, ['--version'], {encoding: 'utf8'})
    const [major, minor] = (found.stdout ?? '').trim().slice(1).split('.').map(Number)
    if (found.status === 0 && major !== undefined && (major < 22 || (major === 22 && minor! < 22))) return {node, version: found.stdout.trim().slice(1)}
  }
  const prefix = execFileSync(join(ROOT, 'scripts', 'node-line.sh'), ['20', '--prefix'], {encoding: 'utf8'}).trim()
  const node = join(prefix, 'bin', 'node')
  return {node, version: execFileSync(node, ['--version'], {encoding: 'utf8'}).trim().slice(1)}
}

// On a Node older than spool's floor, spool says so in one line instead of failing inside a dependency.
describe('an end-of-life Node', () => {
  it('gets one line naming the Node spool needs, and exit 1', {timeout: 600_000}, () => {
    const {node, version} = oldNode()
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
