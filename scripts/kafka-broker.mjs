#!/usr/bin/env node
// A real Apache Kafka broker for tests and benchmarks: KRaft, one combined node, loopback only, from
// Kafka's own jars fetched by Maven (test/kafka/broker/pom.xml) and cached between runs.
//
//   node scripts/kafka-broker.mjs fetch       # download the jars into the cache (CI does this first)
//   node scripts/kafka-broker.mjs start       # start a broker, print its addresses, stop on Ctrl-C
//
// Listeners on free ports: PLAINTEXT; SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); SSL with a
// throwaway CA, a server certificate for "localhost" only, and client certificates required (mutual TLS).
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {homedir, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pom = join(root, 'test', 'kafka', 'broker', 'pom.xml')

export const KAFKA_VERSION = /<kafka\.version>([^<]+)</.exec(readFileSync(pom, 'utf8'))[1]

/** Users the SASL listener knows: PLAIN from the JAAS line, SCRAM from the format step. */
export const SASL_USERS = {admin: 'admin-secret', alice: 'alice-secret'}

function cacheDir() {
  const base = process.env.SPOOL_KAFKA_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'spool-test')
  return join(base, `kafka-${KAFKA_VERSION}`)
}

/** The directory of Kafka's jars, fetched with Maven the first time. */
export function kafkaJars({quiet = true} = {}) {
  const lib = join(cacheDir(), 'lib')
  if (existsSync(join(lib, '.complete'))) return lib
  const partial = `${lib}.partial-${process.pid}`
  rmSync(partial, {recursive: true, force: true})
  mkdirSync(dirname(lib), {recursive: true})
  execFileSync('mvn', ['-B', ...(quiet ? ['-q'] : []), '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`], {
    stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'],
  })
  writeFileSync(join(partial, '.complete'), `${KAFKA_VERSION}\n`)
  rmSync(lib, {recursive: true, force: true})
  renameSync(partial, lib)
  return lib
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

const LOG4J2 = `status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = STDOUT
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = info
`

/**
 * A CA, a server certificate valid for the name "localhost" (not for 127.0.0.1, so that a client which
 * skips host name verification is caught), and a client certificate, all PEM, made with openssl.
 */
function makeCertificates(dir) {
  const ssl = (args) => execFileSync('openssl', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=spool test CA'])
  for (const [name, subject, extension] of [
    ['server', '/CN=localhost', 'subjectAltName=DNS:localhost'],
    ['client', '/CN=spool-test-client', 'extendedKeyUsage=clientAuth'],
  ]) {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.rsa.key`, '-out', `${name}.csr`, '-subj', subject])
    writeFileSync(join(dir, `${name}.ext`), `${extension}\n`)
    ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`])
    // Kafka reads PEM keys in PKCS#8.
    ssl(['pkcs8', '-topk8', '-nocrypt', '-in', `${name}.rsa.key`, '-out', `${name}.key`])
  }
  writeFileSync(join(dir, 'server-keystore.pem'), readFileSync(join(dir, 'server.key'), 'utf8') + readFileSync(join(dir, 'server.pem'), 'utf8'))
  return {ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key'), keystore: join(dir, 'server-keystore.pem')}
}

function serverProperties({dataDir, plain, sasl, ssl, controller, certificates}) {
  const users = Object.entries(SASL_USERS)
    .map(([name, password]) => `user_${name}="${password}"`)
    .join(' ')
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controller}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${sasl},SSL://127.0.0.1:${ssl},CONTROLLER://127.0.0.1:${controller}
advertised.listeners=PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${sasl},SSL://localhost:${ssl}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=${certificates.keystore}
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=${certificates.ca}
listener.name.ssl.ssl.client.auth=required
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${SASL_USERS.admin}" ${users};
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=${dataDir}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
log.cleaner.dedupe.buffer.size=16777216
num.network.threads=2
num.io.threads=2
auto.create.topics.enable=false
# Tests write records with timestamps years old: retention must not delete them mid-test. The check
# interval alone is not enough: the broker also runs the retention check once, log.initial.task.delay.ms
# (30 s) after it starts, which deleted such records in the middle of a test (seen as reads coming back
# empty, and as OFFSET_OUT_OF_RANGE). Topics keep records forever unless a test sets retention.ms.
log.retention.ms=-1
log.retention.check.interval.ms=3600000
`
}

/**
 * Starts a broker in a fresh directory and resolves once it serves clients. `stop()` ends it (SIGTERM,
 * then SIGKILL after 10 s) and removes its data; `halt()` ends it keeping its data, `restart()` starts
 * it again on the same ports (outage tests).
 */
export async function startBroker({log = () => {}} = {}) {
  const lib = kafkaJars()
  const dir = mkdtempSync(join(tmpdir(), 'spool-kafka-'))
  const [plain, sasl, ssl, controller] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const certificates = makeCertificates(dir)
  const config = join(dir, 'server.properties')
  writeFileSync(config, serverProperties({dataDir: join(dir, 'data'), plain, sasl, ssl, controller, certificates}))
  writeFileSync(join(dir, 'log4j2.properties'), LOG4J2)
  const java = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, '-cp', `${lib}/*`]
  const scram = Object.entries(SASL_USERS).flatMap(([name, password]) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => ['-S', `${mechanism}=[name=${name},password=${password}]`]),
  )
  execFileSync('java', [...java, 'kafka.tools.StorageTool', 'format', '-t', 'c3Bvb2wtdGVzdC1jbHVzdGVy', '-c', config, ...scram], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  log(`starting Kafka ${KAFKA_VERSION} in ${dir}`)
  // launch() is called again by restart(): the same directory, data and ports, as a broker that was
  // stopped and started by its operator.
  let child
  let output = ''
  let exited
  const launch = async () => {
    child = spawn('java', [...java, 'kafka.Kafka', config], {stdio: ['ignore', 'pipe', 'pipe'], detached: false})
    output = ''
    const collect = (d) => {
      output += d.toString()
      if (output.length > 200_000) output = output.slice(-100_000)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const current = child
    exited = new Promise((resolve) => current.on('exit', (code, signal) => resolve({code, signal})))
    const started = Date.now()
    await new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        if (/Kafka Server started/.test(output)) {
          clearInterval(timer)
          resolve()
        } else if (current.exitCode !== null || Date.now() - started > 120_000) {
          clearInterval(timer)
          current.kill('SIGKILL')
          reject(new Error(`Kafka did not start (${current.exitCode !== null ? `exit ${current.exitCode}` : 'timeout'}):\n${output.slice(-4000)}`))
        }
      }, 100)
    })
    log(`Kafka ${KAFKA_VERSION} up in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }
  const halt = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
  await launch()
  return {
    version: KAFKA_VERSION,
    dir,
    lib,
    get pid() {
      return child.pid
    },
    plaintext: `127.0.0.1:${plain}`,
    sasl: `127.0.0.1:${sasl}`,
    /** Reach it as localhost: the certificate names only that. */
    tls: `localhost:${ssl}`,
    tlsPort: ssl,
    certificates: {ca: certificates.ca, cert: certificates.cert, key: certificates.key},
    users: SASL_USERS,
    output: () => output,
    async stop() {
      await halt()
      rmSync(dir, {recursive: true, force: true})
    },
    /** Stops the broker process and keeps its data: restart() brings it back on the same ports. */
    halt,
    restart: launch,
  }
}

/** Runs one of Kafka's own Java tools (console consumer, perf tools) against the cached jars. */
export function kafkaToolCommand(mainClass, args) {
  writeToolsLogConfig()
  return ['java', ['-Xmx512m', `-Dlog4j2.configurationFile=${join(kafkaJars(), '..', 'tools-log4j2.properties')}`, '-cp', `${kafkaJars()}/*`, mainClass, ...args]]
}

function writeToolsLogConfig() {
  const file = join(kafkaJars(), '..', 'tools-log4j2.properties')
  if (!existsSync(file))
    writeFileSync(file, LOG4J2.replace('appender.out.layout.type', 'appender.out.target = SYSTEM_ERR\nappender.out.layout.type').replace(/logger\.raft.*\n/g, ''))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv[2]
  if (command === 'fetch') {
    console.log(kafkaJars({quiet: false}))
  } else if (command === 'start') {
    const broker = await startBroker({log: (line) => process.stderr.write(`${line}\n`)})
    console.log(`plaintext: kafka://${broker.plaintext}\nsasl:      kafka://${broker.sasl} (users: ${Object.keys(SASL_USERS).join(', ')})`)
    console.log(`tls:       kafka://${broker.tls} (--tls-ca ${broker.certificates.ca} --tls-cert ${broker.certificates.cert} --tls-key ${broker.certificates.key})`)
    const stop = async () => {
      await broker.stop()
      process.exit(0)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  } else {
    process.stderr.write('usage: node scripts/kafka-broker.mjs fetch|start\n')
    process.exit(2)
  }
}
