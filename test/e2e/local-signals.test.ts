import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {run, sh, start, tempHome, waitForOutput} from '../helpers/cli.js'

let t: ReturnType<typeof tempHome>
beforeEach(() => {
  t = tempHome()
})
afterEach(() => t.cleanup())

const bigInput = (n: number) => Array.from({length: n}, (_, i) => `${i}:${'payload'.repeat(8)}`).join('\n') + '\n'

describe('pipes', () => {
  it('`consume big | head -1` exits 0 at once, with nothing on stderr', async () => {
    await run(['produce', 'big'], {env: t.env, input: bigInput(300_000)})
    const result = await sh('$bin consume big | head -1; echo "status=${PIPESTATUS[0]}" >&2', {env: t.env})
    expect(result.stdout.toString()).toBe(`0:${'payload'.repeat(8)}\n`)
    expect(result.stderr).toBe('status=0\n')
  })

  it('output larger than 64 KiB reaches a slow reader whole', async () => {
    const input = bigInput(100_000)
    await run(['produce', 'slow'], {env: t.env, input})
    // The reader takes 64 KiB at a time with pauses, so the writer meets a full pipe again and again.
    const reader = `python3 -c "
import sys, time
out = sys.stdout.buffer
while True:
    chunk = sys.stdin.buffer.read1(65536)
    if not chunk: break
    out.write(chunk)
    time.sleep(0.002)
"`
    const result = await sh(`$bin consume slow | ${reader}`, {env: t.env})
    expect(result.code).toBe(0)
    expect(result.stdout.length).toBe(Buffer.byteLength(input))
    expect(result.stdout.toString() === input).toBe(true)
  })
})

describe('signals', () => {
  it('Ctrl-C during a produce stores every complete line it read and exits 130', async () => {
    const producer = start(['produce', 'ctrlc'], {env: t.env})
    const stderr: Buffer[] = []
    producer.stderr!.on('data', (d: Buffer) => stderr.push(d))
    // Listening from the start: a producer that fails early must fail the test, not leave it waiting.
    const closed = new Promise<number | null>((resolve) => producer.on('close', (code) => resolve(code)))
    producer.stdin!.write('one\ntwo\nthree\npartial-without-newline')
    // Wait until the lines are committed (visible to another process), then interrupt.
    for (let i = 0; i < 200; i++) {
      const seen = await run(['consume', 'ctrlc'], {env: t.env})
      if (seen.stdout.toString() === 'one\ntwo\nthree\n' || producer.exitCode !== null) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(producer.exitCode, Buffer.concat(stderr).toString()).toBeNull()
    producer.kill('SIGINT')
    expect(await closed).toBe(130)
    const consumed = await run(['consume', 'ctrlc'], {env: t.env})
    expect(consumed.stdout.toString()).toBe('one\ntwo\nthree\n')
    expect(Buffer.concat(stderr).toString()).toMatch(/interrupted.*stored 3 records/)
  })

  it('Ctrl-C stops a pipe between topics of one store mid-copy (exit 130); run again, it finishes the copy exactly', async () => {
    // Three million records: the copy takes seconds, and every await of a local-to-local copy resolved
    // at once, so Node never handled the signal: the copy ran to its end and exited 0.
    expect((await sh('seq 1 3000000 | $bin produce src', {env: t.env})).code).toBe(0)
    const piper = start(['pipe', 'src', 'dst', '-g', 'copier'], {env: t.env})
    let stderr = ''
    piper.stderr!.on('data', (d: Buffer) => (stderr += d))
    const closed = new Promise<number | null>((resolve) => piper.on('close', (code) => resolve(code)))
    // Interrupt once the copy is under way (its first records are committed in the destination).
    for (let i = 0; i < 400 && piper.exitCode === null; i++) {
      const seen = await run(['count', 'dst'], {env: t.env})
      if (seen.code === 0 && Number(seen.stdout.toString()) > 0) break
      await new Promise((r) => setTimeout(r, 25))
    }
    piper.kill('SIGINT')
    expect(await closed, stderr).toBe(130)
    const copied = Number((await run(['count', 'dst'], {env: t.env})).stdout.toString())
    expect(copied).toBeLessThan(3_000_000)
    expect(stderr).toContain(`interrupted after ${copied} records`)
    expect((await run(['pipe', 'src', 'dst', '-g', 'copier'], {env: t.env})).code).toBe(0)
    const diff = await run(['diff', 'src', 'dst'], {env: t.env})
    expect(diff.stdout.toString()).toBe('equal (by offset): 3000000 equal, 0 only in A, 0 only in B, 0 changed\n')
  })

  it('Ctrl-C of a follow exits 0', async () => {
    await run(['produce', 'x'], {env: t.env, input: 'a\n'})
    const follower = start(['tail', 'x'], {env: t.env})
    await waitForOutput(follower.stdout!, (s) => s === 'a\n')
    const closed = new Promise<number | null>((resolve) => follower.on('close', (code) => resolve(code)))
    follower.kill('SIGINT')
    expect(await closed).toBe(0)
  })
})
