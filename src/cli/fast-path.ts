import {existsSync, readFileSync} from 'node:fs'
import {arch, homedir, platform, release, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import type {Command} from '@oclif/core'

/**
 * The start-up fast path (issue 9; docs/ARCHITECTURE.md, "Start-up"). oclif's `execute` loads a full
 * Config before any command runs: the root plugin, user and dev plugins, hooks, the theme, the platform
 * and shell probes, every command's manifest entry. That is about 45 ms of a local command's 100 ms
 * budget, for facts spool does not use. Here `spool --version` and spool's own commands run from
 * package.json and the oclif manifest alone: the command class is imported from the path the manifest
 * names and run through oclif's own Command lifecycle (init, parse, run, catch, finally), with a small
 * config object that answers what that lifecycle and spool's commands ask of a config.
 *
 * Anything this cannot reproduce exactly goes to oclif: help (--help, no arguments, a bare topic),
 * an unknown command, an id spelled with colons, a manifest that is missing or of another version,
 * plugins or hooks declared in package.json, a user's plugin list or theme file, oclif's own debug
 * switches (DEBUG, SPOOL_DEBUG) and development mode (NODE_ENV development or test), Windows, and the
 * commands that read oclif's full command list.
 * Returns false then, before anything has run or been printed.
 */
export async function runFast(argv: string[], launcher: string): Promise<boolean> {
  const start = fastStart(argv, launcher)
  if (!start) return false
  if (start.kind === 'version') {
    // Nothing else watches stdout on this path, and an error event nobody listens to is a crash: a closed
    // pipe ends the run quietly, a full disk with the line ./stdout-errors.ts prints (not imported: it
    // would load the bundle's core module for --version).
    process.stdout.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') process.stderr.write(`spool: cannot write the output: ${error.message}\n`)
      process.exit(error.code === 'EPIPE' ? 0 : 1)
    })
    // oclif: `ux.stdout(config.userAgent)`, then the flush of stdout.
    process.stdout.write(`${await userAgent(start.pjson)}\n`)
    try {
      await flushStdout()
    } catch (error) {
      await handleError(error)
    }
    return true
  }
  const {pjson, manifest, entry, args} = start
  const config = new FastConfig(pjson, manifest, await platformName())
  let CommandClass: CommandClass
  try {
    const module = (await import(pathToFileURL(join(start.root, ...entry.relativePath!)).href)) as {default?: unknown}
    CommandClass = module.default as CommandClass
  } catch {
    return false
  }
  if (typeof CommandClass !== 'function' || typeof (CommandClass.prototype as {_run?: unknown})._run !== 'function') return false
  // What oclif's plugin loader sets on a command class it loads from the manifest.
  CommandClass.id = entry.id
  ;(CommandClass as {isESM?: boolean}).isESM = true
  ;(CommandClass as {relativePath?: string[]}).relativePath = entry.relativePath
  config.userAgent = `${pjson.name}/${config.version} ${config.platform}-${config.arch} node-${process.version}`
  try {
    // Command.run(argv, config) without its Config.load: construct, then the lifecycle.
    const command = new CommandClass(args, config as never)
    await (command as unknown as {_run(): Promise<unknown>})._run()
    await flushStdout()
  } catch (error) {
    await handleError(error)
  }
  return true
}

/** As oclif's execute: an error that escapes the command goes to oclif's handler (prints, exits). */
async function handleError(error: unknown): Promise<void> {
  const {handle} = await import('@oclif/core')
  await handle(error instanceof Error ? error : new Error(String(error)))
}

type CommandClass = (new (argv: string[], config: never) => Command) & {id?: string; prototype: object}

interface PackageJson {
  name: string
  version: string
  oclif: {
    bin?: string
    dirname?: string
    binAliases?: string[]
    topicSeparator?: string
    additionalHelpFlags?: string[]
    additionalVersionFlags?: string[]
    plugins?: unknown
    devPlugins?: unknown
    jitPlugins?: unknown
    hooks?: Record<string, unknown>
    commands?: unknown
    flexibleTaxonomy?: boolean
    theme?: unknown
    [key: string]: unknown
  }
}

interface ManifestCommand {
  id: string
  aliases?: string[]
  hiddenAliases?: string[]
  args?: Record<string, unknown>
  strict?: boolean
  isESM?: boolean
  relativePath?: string[]
  deprecateAliases?: boolean
  state?: string
}

interface Manifest {
  version: string
  commands: Record<string, ManifestCommand>
}

/** Commands that need more of oclif's config than FastConfig has (the full command list). */
const OCLIF_ONLY = new Set(['__complete'])

type Start =
  | {kind: 'version'; pjson: PackageJson}
  | {kind: 'command'; pjson: PackageJson; manifest: Manifest; root: string; entry: ManifestCommand; args: string[]}

function fastStart(argv: string[], launcher: string): Start | undefined {
  if (process.platform === 'win32') return undefined
  const env = process.env
  // oclif's development mode (NODE_ENV development or test) looks for TypeScript sources and dev plugins.
  if (env.DEBUG || env.NODE_ENV === 'development' || env.NODE_ENV === 'test') return undefined
  const root = join(dirname(fileURLToPath(launcher)), '..')
  const pjson = readJson<PackageJson>(join(root, 'package.json'))
  const oclif = pjson?.oclif
  if (!pjson || !oclif || !pjson.name || !pjson.version) return undefined
  if (oclif.plugins || oclif.devPlugins || oclif.jitPlugins || (oclif.hooks && Object.keys(oclif.hooks).length > 0)) return undefined
  if (oclif.additionalVersionFlags?.length || oclif.additionalHelpFlags?.length || oclif.flexibleTaxonomy || oclif.theme) return undefined
  if (oclif.topicSeparator !== ' ' || typeof oclif.commands !== 'string') return undefined
  const bin = oclif.bin || pjson.name
  if (oclif.binAliases?.length || scoped(bin, 'DEBUG')) return undefined
  // A user's plugins (oclif reads DATA_DIR/package.json) or theme (CONFIG_DIR/theme.json) are oclif's.
  const dirName = oclif.dirname || pjson.name
  const home = env.HOME || homedir() || tmpdir()
  const dataDir = scoped(bin, 'DATA_DIR') || join(env.XDG_DATA_HOME || join(home, '.local', 'share'), dirName)
  const configDir = scoped(bin, 'CONFIG_DIR') || join(env.XDG_CONFIG_HOME || join(home, '.config'), dirName)
  if (existsSync(join(dataDir, 'package.json')) || existsSync(join(configDir, 'theme.json'))) return undefined

  // oclif's main: --version only as the first argument; help for no arguments or a --help before `--`.
  if (argv[0] === '--version') return {kind: 'version', pjson}
  if (argv.length === 0 || argv[0]!.includes(':')) return undefined
  for (const arg of argv) {
    if (arg === '--help') return undefined
    if (arg === '--') break
  }
  const manifest = readJson<Manifest>(join(root, 'oclif.manifest.json'))
  if (!manifest?.commands || manifest.version !== pjson.version) return undefined
  const [id, ...args] = commandIdFromArgv(argv, manifest)
  const entry = manifest.commands[id!]
  if (!entry || entry.id !== id || OCLIF_ONLY.has(id!) || !entry.isESM || !entry.relativePath?.length) return undefined
  return {kind: 'command', pjson, manifest, root, entry, args}
}

/**
 * oclif's collateSpacedCmdIDFromArgs (help/util.js) for a space-separated command tree: words join into
 * the longest command or topic id, stopping at a flag, a name=value, or once the id so far is a command
 * that takes arguments.
 */
function commandIdFromArgv(argv: string[], manifest: Manifest): string[] {
  if (argv.length === 1) return argv
  const ids = new Set<string>()
  for (const id of Object.keys(manifest.commands)) {
    const parts = id.split(':')
    for (let i = 1; i <= parts.length; i++) ids.add(parts.slice(0, i).join(':'))
  }
  const final: string[] = []
  const finalize = (s?: string) => (s ? [...final, s] : final).filter(Boolean).join(':')
  const hasArgs = () => {
    const id = finalize()
    if (!id) return false
    const command = manifest.commands[id]
    return Boolean(command && (command.strict === false || Object.keys(command.args ?? {}).length > 0))
  }
  for (const arg of argv) {
    if (ids.has(finalize(arg))) final.push(arg)
    else if (arg.includes('=') || arg.startsWith('-') || hasArgs()) break
    else final.push(arg)
  }
  const id = finalize()
  return id ? [id, ...argv.slice(id.split(':').length)] : argv
}

function scopedKey(bin: string, key: string): string {
  return [bin.replaceAll('@', '').replaceAll(/[/-]/g, '_'), key].join('_').toUpperCase()
}

function scoped(bin: string, key: string): string | undefined {
  const value = process.env[scopedKey(bin, key)]
  return value ? value : undefined
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

/**
 * oclif's getPlatform: 'wsl' inside the Windows Subsystem for Linux, by is-wsl's own test (is-wsl 3,
 * through wsl-utils), written out here because importing wsl-utils loads node:child_process for its
 * PowerShell helpers: 20-40 ms of a spawn. An is-wsl test switch in the environment takes the import.
 */
async function platformName(): Promise<string> {
  if (process.env.__IS_WSL_TEST__) return (await import('wsl-utils')).isWsl ? 'wsl' : platform()
  return isWsl() ? 'wsl' : platform()
}

function isWsl(): boolean {
  if (process.platform !== 'linux') return false
  if (release().toLowerCase().includes('microsoft')) return !isInsideContainer()
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return !isInsideContainer()
  } catch {}
  if (existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')) return !isInsideContainer()
  return false
}

/** is-inside-container and is-docker, as is-wsl asks them. */
function isInsideContainer(): boolean {
  if (existsSync('/run/.containerenv') || existsSync('/.dockerenv')) return true
  try {
    return readFileSync('/proc/self/cgroup', 'utf8').includes('docker')
  } catch {
    return false
  }
}

async function userAgent(pjson: PackageJson): Promise<string> {
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  return `${pjson.name}/${pjson.version} ${await platformName()}-${cpu} node-${process.version}`
}

/**
 * oclif's flush (lib/flush.js), without loading oclif for --version: wait for stdout to drain, at most
 * 10 s, then fail as oclif's does (its error handler prints "timed out" and exits 1).
 */
async function flushStdout(): Promise<void> {
  if (process.stdout.write('')) return
  let timer: NodeJS.Timeout | undefined
  const drained = await Promise.race([
    new Promise<boolean>((resolve) => process.stdout.once('drain', () => resolve(true))),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 10_000)
      timer.unref()
    }),
  ])
  clearTimeout(timer)
  if (!drained) {
    const {Errors} = await import('@oclif/core')
    Errors.error('timed out')
  }
}

/**
 * What oclif's Command lifecycle and spool's commands read of a Config: names, the user agent, scoped
 * environment variables, hooks (none: fastStart sends a package.json with hooks to oclif), and the
 * command ids for init's deprecation check.
 */
class FastConfig {
  readonly name: string
  readonly version: string
  readonly bin: string
  readonly dirname: string
  readonly binAliases = undefined
  readonly topicSeparator = ' '
  readonly flexibleTaxonomy = false
  readonly isSingleCommandCLI = false
  readonly windows = false
  readonly arch = arch() === 'ia32' ? 'x86' : arch()
  readonly theme = undefined
  readonly commandIDs: string[]
  userAgent = ''

  constructor(
    readonly pjson: PackageJson,
    private readonly manifest: Manifest,
    readonly platform: string,
  ) {
    this.name = pjson.name
    this.version = pjson.version
    this.bin = pjson.oclif.bin || pjson.name
    this.dirname = pjson.oclif.dirname || pjson.name
    this.commandIDs = Object.keys(manifest.commands)
  }

  findCommand(id: string): ManifestCommand | undefined {
    return this.manifest.commands[id]
  }

  scopedEnvVar(key: string): string | undefined {
    return process.env[this.scopedEnvVarKeys(key).find((k) => process.env[k])!]
  }

  scopedEnvVarTrue(key: string): boolean {
    const value = this.scopedEnvVar(key)
    return value === '1' || value === 'true'
  }

  scopedEnvVarKey(key: string): string {
    return scopedKey(this.bin, key)
  }

  scopedEnvVarKeys(key: string): string[] {
    return [scopedKey(this.bin, key)]
  }

  async runHook(): Promise<{successes: []; failures: []}> {
    return {successes: [], failures: []}
  }
}
