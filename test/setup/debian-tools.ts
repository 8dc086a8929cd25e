import {execFileSync, spawnSync} from 'node:child_process'

const PACKAGE_OF: Record<string, string> = {kcat: 'kcat', tmux: 'tmux', zsh: 'zsh', fish: 'fish', script: 'bsdutils'}

/**
 * The tests drive real peers and terminals: kcat, tmux, zsh, fish. On a machine of this project's kind
 * (Debian, apt-get) the missing ones are installed here, so that `npm test` works on a fresh machine as
 * the README says; elsewhere the run stops with the list to install.
 */
export function ensureTools(tools: string[]): void {
  const missing = tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
  if (missing.length === 0) return
  installPackages(
    missing.map((tool) => PACKAGE_OF[tool] ?? tool),
    `the tests need ${missing.join(', ')}`,
  )
}

/**
 * Installs Debian packages with apt-get (as root, or through passwordless sudo); elsewhere throws with
 * `why` and the packages to install by hand.
 */
export function installPackages(packages: string[], why = `the tests need ${packages.join(', ')}`): void {
  const root = process.getuid?.() === 0
  const sudo = root ? [] : spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : undefined
  if (sudo === undefined || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0)
    throw new Error(`${why}: install ${packages.join(' ')} (Debian: apt-get install ${packages.join(' ')})`)
  process.stderr.write(`test setup: installing ${packages.join(' ')} with apt-get\n`)
  const apt = (args: string[]) =>
    execFileSync(sudo[0] ?? 'apt-get', sudo.length > 0 ? [...sudo.slice(1), 'apt-get', ...args] : args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'},
    })
  // The local and kafka projects' setups may run at once: wait for the other's dpkg lock, do not fail on it.
  const wait = ['-o', 'DPkg::Lock::Timeout=300']
  apt([...wait, 'update', '-qq'])
  apt([...wait, 'install', '-y', '-qq', ...packages])
}
