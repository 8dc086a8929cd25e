#!/usr/bin/env node
// A real schema registry for tests: Apicurio Registry's ready-made bundle from Maven Central (Java 17),
// which speaks the Confluent Schema Registry API under /apis/ccompat/v7. Loopback only, in-memory storage
// (every start is empty, schema ids start at 1), no auth. See the reference notes for how it differs from
// Confluent's own registry (GET /schemas/ids/N includes "schemaType" for Avro; default compatibility NONE).
//
//   node scripts/schema-registry.mjs fetch    # download and unpack the bundle into the cache (CI does this first)
//   node scripts/schema-registry.mjs start    # start a registry, print its Confluent-API URL, stop on Ctrl-C
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const REGISTRY_VERSION = '3.0.9'
const ARTIFACT = `io.apicurio:apicurio-registry-app:${REGISTRY_VERSION}:tar.gz:all`
/** Where the Confluent-compatible API lives on an Apicurio server. */
export const CCOMPAT_PATH = '/apis/ccompat/v7'

function cacheDir() {
  const base = process.env.SPOOL_KAFKA_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'spool-test')
  return join(base, `apicurio-registry-${REGISTRY_VERSION}`)
}

function mavenRepository() {
  // The default local repository; `mvn help:evaluate` would cost seconds for the same answer.
  return process.env.MAVEN_REPO_LOCAL ?? join(homedir(), '.m2', 'repository')
}

/**
 * The unpacked bundle's runner jar, fetched with Maven (cached in ~/.m2) and unpacked once into
 * ~/.cache/spool-test/apicurio-registry-VERSION; later calls only check the marker file.
 */
export function registryJar({quiet = true} = {}) {
  const dir = cacheDir()
  const runner = () => join(dir, `apicurio-registry-app-${REGISTRY_VERSION}-runner.jar`)
  if (existsSync(join(dir, '.complete'))) return runner()
  const tarball = join(mavenRepository(), 'io', 'apicurio', 'apicurio-registry-app', REGISTRY_VERSION, `apicurio-registry-app-${REGISTRY_VERSION}-all.tar.gz`)
  if (!existsSync(tarball))
    execFileSync('mvn', ['-B', ...(quiet ? ['-q'] : []), 'dependency:get', `-Dartifact=${ARTIFACT}`, '-Dtransitive=false'], {
      stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'],
    })
  // Unpack beside the target and rename, so that an interrupted fetch never leaves a half-filled directory.
  const partial = `${dir}.partial-${process.pid}`
  rmSync(partial, {recursive: true, force: true})
  mkdirSync(partial, {recursive: true})
  execFileSync('tar', ['xzf', tarball, '-C', partial], {stdio: ['ignore', 'ignore', 'inherit']})
  // The tarball holds the runner jar, lib/ and meta/ at its top; allow for one wrapping directory too.
  let top = partial
  if (!readdirSync(top).some((name) => name.endsWith('-runner.jar'))) {
    const inner = readdirSync(top).map((name) => join(partial, name)).find((path) => readdirSync(path, {withFileTypes: true}).some((e) => e.name.endsWith('-runner.jar')))
    if (inner === undefined) throw new Error(`${tarball} holds no *-runner.jar`)
    top = inner
  }
  writeFileSync(join(top, '.complete'), `${REGISTRY_VERSION}\n`)
  rmSync(dir, {recursive: true, force: true})
  renameSync(top, dir)
  rmSync(partial, {recursive: true, force: true})
  if (!existsSync(runner())) throw new Error(`no ${runner()} after unpacking ${tarball}`)
  return runner()
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * Starts a registry on a free loopback port and resolves once GET /health/ready answers 200 (Apicurio
 * logs no "started" line). Returns the Confluent-compatible API's base URL (no trailing slash); `stop()`
 * ends it (SIGTERM, then SIGKILL after 10 s). Rejects with the log's tail if it exits or is not ready
 * within `timeoutMs`.
 */
export async function startRegistry({log = () => {}, timeoutMs = 90_000} = {}) {
  const jar = registryJar()
  const port = await freePort()
  const args = [
    '-Xmx256m',
    // C1 only and the serial collector: ready in ~5 s instead of ~12 s, plenty for a test's load.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    // Without this Quarkus listens on all interfaces.
    '-Dquarkus.http.host=127.0.0.1',
    `-Dquarkus.http.port=${port}`,
    '-jar',
    jar,
  ]
  log(`starting Apicurio Registry ${REGISTRY_VERSION} on 127.0.0.1:${port}`)
  const child = spawn('java', args, {cwd: dirname(jar), stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  const collect = (d) => {
    output += d.toString()
    if (output.length > 200_000) output = output.slice(-100_000)
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({code, signal})))
  const base = `http://127.0.0.1:${port}`
  const started = Date.now()
  const alive = () => child.exitCode === null && child.signalCode === null
  for (;;) {
    if (!alive()) {
      throw new Error(`Apicurio Registry exited before it was ready (exit ${child.exitCode ?? child.signalCode}):\n${output.slice(-4000)}`)
    }
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL')
      await exited
      throw new Error(`Apicurio Registry was not ready at ${base}/health/ready within ${timeoutMs / 1000} s:\n${output.slice(-4000)}`)
    }
    try {
      const response = await fetch(`${base}/health/ready`, {signal: AbortSignal.timeout(2000)})
      if (response.status === 200) break
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  log(`Apicurio Registry ${REGISTRY_VERSION} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return {
    version: REGISTRY_VERSION,
    /** The Confluent Schema Registry API's base URL. */
    url: `${base}${CCOMPAT_PATH}`,
    /** The server's root, for Apicurio's own API (/apis/registry/v3) and /health. */
    base,
    pid: child.pid,
    output: () => output,
    async stop() {
      if (alive()) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv[2]
  if (command === 'fetch') {
    console.log(registryJar({quiet: false}))
  } else if (command === 'start') {
    const registry = await startRegistry({log: (line) => process.stderr.write(`${line}\n`)})
    console.log(registry.url)
    const stop = async () => {
      await registry.stop()
      process.exit(0)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  } else {
    process.stderr.write('usage: node scripts/schema-registry.mjs fetch|start\n')
    process.exit(2)
  }
}
