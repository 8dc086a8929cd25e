import {execFile, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {installPackages} from './debian-tools.js'

const run = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Confluent's Python client as a schema-registry peer: `python PEER produce|consume ...` (see its docstring). */
export const PEER = join(root, 'test', 'peers', 'confluent_peer.py')
/** The peer's packages, each pinned; a change to this file rebuilds the virtualenv. */
export const REQUIREMENTS = join(root, 'test', 'peers', 'requirements.txt')

function venvDir(): string {
  const base = process.env.SPOOL_KAFKA_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'spool-test')
  return join(base, 'confluent-venv')
}

/** The interpreter the virtualenv is made from: SPOOL_TEST_PYTHON, else python3 on PATH. */
function basePython(): string {
  return process.env.SPOOL_TEST_PYTHON ?? 'python3'
}

async function output(file: string, args: string[]): Promise<string> {
  const {stdout} = await run(file, args, {maxBuffer: 16 * 1024 * 1024, encoding: 'utf8'})
  return stdout
}

/**
 * Makes (once) a virtualenv in ~/.cache/spool-test/confluent-venv with the pinned packages of
 * test/peers/requirements.txt, and returns its python. A stamp file holds the requirements and the base
 * interpreter's version it was built from: while both match, this costs one file read; otherwise the
 * virtualenv is rebuilt from scratch. On Debian, python3 without ensurepip (no python3-venv) gets
 * python3-venv from apt-get, as the other test tools are installed.
 */
export async function ensurePythonPeer({log = (_line: string) => {}}: {log?: (line: string) => void} = {}): Promise<string> {
  const dir = venvDir()
  const python = join(dir, 'bin', 'python')
  const stampFile = join(dir, '.spool-stamp')
  const base = basePython()
  if (spawnSync('sh', ['-c', `command -v ${base}`]).status !== 0) installPackages(['python3', 'python3-venv'], 'the schema-registry tests need python3')
  const version = (await output(base, ['-c', 'import sys; print(sys.version.split()[0])'])).trim()
  const stamp = `python ${version}\n${readFileSync(REQUIREMENTS, 'utf8')}`
  if (existsSync(python) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return python

  const started = Date.now()
  log(`making the Python peer's virtualenv in ${dir} (Python ${version})`)
  // Built beside the target and renamed, as the broker's jars are, so that an interrupted build or a second
  // test run at the same time never leaves a half-made virtualenv behind the stamp. A virtualenv moves
  // with its python (pyvenv.cfg names only the base interpreter); only its console scripts, which name
  // their path, would not, and nothing here uses them: everything runs as `python -m`.
  const partial = `${dir}.partial-${process.pid}`
  const partialPython = join(partial, 'bin', 'python')
  rmSync(partial, {recursive: true, force: true})
  mkdirSync(dirname(dir), {recursive: true})
  try {
    await run(base, ['-m', 'venv', partial], {encoding: 'utf8'})
  } catch (error) {
    const stderr = String((error as {stderr?: string}).stderr ?? '') + String((error as {stdout?: string}).stdout ?? '')
    // Debian's python3 leaves ensurepip (and so venv's pip) to the python3-venv package.
    if (!/ensurepip|python3(\.\d+)?-venv/.test(stderr)) throw error
    rmSync(partial, {recursive: true, force: true})
    installPackages(['python3-venv'], 'the Python peer needs a virtualenv with pip')
    await run(base, ['-m', 'venv', partial], {encoding: 'utf8'})
  }
  try {
    await run(partialPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '-r', REQUIREMENTS], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    })
  } catch (error) {
    rmSync(partial, {recursive: true, force: true})
    const stderr = String((error as {stderr?: string}).stderr ?? '')
    throw new Error(`the Python peer's virtualenv could not be made in ${partial}: ${(error as Error).message}\n${stderr.slice(-4000)}`)
  }
  writeFileSync(join(partial, '.spool-stamp'), stamp)
  rmSync(dir, {recursive: true, force: true})
  try {
    renameSync(partial, dir)
  } catch (error) {
    // Another run renamed its own build into place first: use that one if it is complete.
    rmSync(partial, {recursive: true, force: true})
    if (!(existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp)) throw error
  }
  // The imports the peer makes, so that a broken install fails here and not in the middle of a test.
  await run(python, ['-c', 'import confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.json_schema, confluent_kafka.schema_registry.protobuf, fastavro, grpc_tools.protoc'])
  log(`Python peer's virtualenv ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return python
}
