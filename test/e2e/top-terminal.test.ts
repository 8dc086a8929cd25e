import {execFileSync} from 'node:child_process'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, run, start, tempHome} from '../helpers/cli.js'

// `spool top` in a real terminal: tmux runs it, another process produces, capture-pane reads the screen.
let t: ReturnType<typeof tempHome>
const socket = `spool-test-${process.pid}`
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'})
const screen = () => tmux('capture-pane', '-p', '-t', 'top')

async function until(what: string, check: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let text = ''
  while (Date.now() < deadline) {
    text = screen()
    if (check(text)) return text
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}; the screen shows:\n${text}`)
}

beforeEach(() => {
  t = tempHome()
})
afterEach(() => {
  try {
    tmux('kill-server')
  } catch {}
  t.cleanup()
})

describe('spool top in a terminal', () => {
  it('shows a topic and its rate appear while another process produces, and quits on q', async () => {
    await run(['produce', 'orders'], {env: t.env, input: 'a\nb\n'})
    // CI=true as a CI runner sets it: ink's CI mode must not blank the dashboard.
    const command = `SPOOL_HOME='${t.home}' NO_COLOR=1 CI=true '${process.execPath}' '${BIN}' top --interval 300ms; echo "EXITED $?"; sleep 60`
    tmux('new-session', '-d', '-s', 'top', '-x', '120', '-y', '30', command)
    await until('the dashboard', (s) => /orders\s+1\s+2\b/.test(s))
    expect(screen()).not.toMatch(/clicks/)

    const producer = start(['produce', 'clicks', '--linger', '1ms'], {env: t.env})
    const feeding = setInterval(() => producer.stdin!.write('click\n'.repeat(20)), 50)
    try {
      // A new topic appears with a write rate above zero (about 400 records/s are written).
      const seen = await until('clicks with a rate', (s) => {
        const rate = /clicks\s+\d+\s+[\d,]+\s+[\d.]+ \S+\s+([\d,]+)/.exec(s)?.[1]
        return rate !== undefined && Number(rate.replace(/,/g, '')) > 0
      })
      expect(seen).toMatch(/clicks\s+1\s+[\d,]+\s+[\d.]+ (B|KiB)\s+[\d,]+\s+[▁▂▃▄▅▆▇█ ]+/)
    } finally {
      clearInterval(feeding)
      producer.stdin!.end()
    }

    tmux('send-keys', '-t', 'top', 'q')
    const after = await until('top to exit', (s) => /EXITED \d+/.test(s))
    expect(after).toMatch(/EXITED 0/)
  })

  it('refuses without a terminal, and prints one snapshot with --once', async () => {
    const refused = await run(['top'], {env: t.env})
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe('spool: spool top needs a terminal (for a snapshot use: spool top --once (or --once --json))\n')
    await run(['produce', 'orders'], {env: t.env, input: 'a\nb\nc\n'})
    await run(['consume', 'orders', '-g', 'billing', '-c', '1'], {env: t.env})
    const once = await run(['top', '--once'], {env: t.env})
    expect(once.stdout.toString()).toMatch(/^TOPIC\s+PARTITIONS\s+RECORDS\s+SIZE\norders\s+1\s+3\s+\S+ B\n\nGROUP\s+TOPICS\s+LAG\nbilling\s+orders\s+2\n$/)
    const json = JSON.parse((await run(['top', '--once', '--json'], {env: t.env})).stdout.toString())
    expect(json.topics.map((x: {name: string; records: number}) => [x.name, x.records])).toEqual([['orders', 3]])
    expect(json.groups).toEqual([{group: 'billing', topics: ['orders'], partitions: 1, lag: 2}])
  })
})
