#!/usr/bin/env node
// A real Apache Kafka broker for tests and benchmarks: KRaft, one combined node, loopback only, from
// Kafka's own jars fetched by Maven (test/kafka/broker/pom.xml) and cached between runs.
//
//   node scripts/kafka-broker.mjs fetch       # download the jars into the cache (CI does this first)
//   node scripts/kafka-broker.mjs start       # start a broker, print its addresses, stop on Ctrl-C
//   node scripts/kafka-broker.mjs cluster     # start a three-node cluster (startCluster below)
//
// SPOOL_KAFKA_VERSION=3.9.1 picks another Kafka release than the pom's (each is cached on its own); the
// tests also pass {version} to these functions to run one project against 3.9 beside the default.
//
// Listeners on free ports: PLAINTEXT; SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); SSL with a
// throwaway CA, a server certificate for "localhost" only, and client certificates required (mutual TLS).
import {execFile, execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {homedir, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pom = join(root, 'test', 'kafka', 'broker', 'pom.xml')

/** The pom's Kafka version: the one the tests and benchmarks use unless told otherwise. */
export const DEFAULT_KAFKA_VERSION = /<kafka\.version>([^<]+)</.exec(readFileSync(pom, 'utf8'))[1]
export const KAFKA_VERSION = process.env.SPOOL_KAFKA_VERSION || DEFAULT_KAFKA_VERSION
/** The Kafka 3 release the tests also run against (the kafka39 project). */
export const KAFKA_3_VERSION = /<kafka3\.version>([^<]+)</.exec(readFileSync(pom, 'utf8'))[1]

/** Kafka 3.x logs with log4j 1.x (reload4j) and keeps some tools in its Scala core; 4.x is log4j 2 throughout. */
const isKafka3 = (version) => /^3\./.test(version)

/**
 * Users the SASL listener knows: PLAIN from the JAAS line, SCRAM from the format step. admin and alice are
 * super users; reader is the one identity the broker's ACLs apply to (the read-only ACL tests).
 */
export const SASL_USERS = {admin: 'admin-secret', alice: 'alice-secret', reader: 'reader-secret'}

/** The SASL user with no rights but the ACLs a test grants it. */
export const RESTRICTED_USER = 'reader'

/** The TLS client certificate's subject: Kafka's principal for it is this DN (ssl.principal.mapping.rules=DEFAULT). */
const CLIENT_CERTIFICATE_SUBJECT = 'CN=spool-test-client'

function cacheDir(version) {
  const base = process.env.SPOOL_KAFKA_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'spool-test')
  return join(base, `kafka-${version}`)
}

/** The directory of Kafka's jars, fetched with Maven the first time. */
export function kafkaJars({quiet = true, version = KAFKA_VERSION} = {}) {
  const lib = join(cacheDir(version), 'lib')
  if (existsSync(join(lib, '.complete'))) return lib
  const partial = `${lib}.partial-${process.pid}`
  rmSync(partial, {recursive: true, force: true})
  mkdirSync(dirname(lib), {recursive: true})
  const properties = [`-Dkafka.version=${version}`, ...(isKafka3(version) ? ['-Dkafka.log4j1'] : [])]
  execFileSync('mvn', ['-B', ...(quiet ? ['-q'] : []), '-f', pom, ...properties, 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`], {
    stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'],
  })
  writeFileSync(join(partial, '.complete'), `${version}\n`)
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

// The same for Kafka 3.x's log4j 1.x: warnings, and the line that says the server is up.
const LOG4J1 = `log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
`

/** Writes the logging configuration this version reads into `dir`; returns the JVM flag that names it. */
function logConfigFlag(dir, version, {toStderr = false} = {}) {
  if (isKafka3(version)) {
    const file = join(dir, toStderr ? 'tools-log4j.properties' : 'log4j.properties')
    const text = toStderr ? LOG4J1.replace('ConsoleAppender\n', 'ConsoleAppender\nlog4j.appender.stdout.Target=System.err\n').replace(/^log4j\.logger\.kafka\.server.*\n/m, '') : LOG4J1
    if (!existsSync(file)) writeFileSync(file, text)
    return `-Dlog4j.configuration=file:${file}`
  }
  const file = join(dir, toStderr ? 'tools-log4j2.properties' : 'log4j2.properties')
  const text = toStderr ? LOG4J2.replace('appender.out.layout.type', 'appender.out.target = SYSTEM_ERR\nappender.out.layout.type').replace(/logger\.raft.*\n/g, '') : LOG4J2
  if (!existsSync(file)) writeFileSync(file, text)
  return `-Dlog4j2.configurationFile=${file}`
}

/**
 * A CA, a server certificate valid for the name "localhost" (not for 127.0.0.1, so that a client which
 * skips host name verification is caught), and a client certificate, all PEM, made with openssl.
 */
function makeCertificates(dir) {
  const ssl = (args) => execFileSync('openssl', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=spool test CA'])
  for (const [name, subject, extension] of [
    ['server', '/CN=localhost', 'subjectAltName=DNS:localhost'],
    ['client', `/${CLIENT_CERTIFICATE_SUBJECT}`, 'extendedKeyUsage=clientAuth'],
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

function superUsers() {
  const sasl = Object.keys(SASL_USERS).filter((name) => name !== RESTRICTED_USER)
  return ['ANONYMOUS', CLIENT_CERTIFICATE_SUBJECT, ...sasl].map((name) => `User:${name}`).join(';')
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
# ACLs are enforced, for the restricted SASL user only: every other identity the tests connect as is a
# super user. PLAINTEXT (also the controller and inter-broker listener) is User:ANONYMOUS, SSL is the
# client certificate's DN.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=${superUsers()}
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
export async function startBroker({log = () => {}, version = KAFKA_VERSION} = {}) {
  const lib = kafkaJars({version})
  const dir = mkdtempSync(join(tmpdir(), 'spool-kafka-'))
  const [plain, sasl, ssl, controller] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const certificates = makeCertificates(dir)
  const config = join(dir, 'server.properties')
  writeFileSync(config, serverProperties({dataDir: join(dir, 'data'), plain, sasl, ssl, controller, certificates}))
  const java = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', logConfigFlag(dir, version), '-cp', `${lib}/*`]
  const scram = Object.entries(SASL_USERS).flatMap(([name, password]) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => ['-S', `${mechanism}=[name=${name},password=${password}]`]),
  )
  execFileSync('java', [...java, 'kafka.tools.StorageTool', 'format', '-t', 'c3Bvb2wtdGVzdC1jbHVzdGVy', '-c', config, ...scram], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  log(`starting Kafka ${version} in ${dir}`)
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
    log(`Kafka ${version} up in ${((Date.now() - started) / 1000).toFixed(1)} s`)
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
    version,
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

// ---- A cluster of several nodes, for the tests that kill brokers (test/cluster) ----

function clusterNodeProperties({id, dataDir, plain, controller, voters, nodes}) {
  const replicas = Math.min(3, nodes)
  const minInSync = Math.max(1, replicas - 1)
  return `process.roles=broker,controller
node.id=${id}
controller.quorum.voters=${voters}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${plain},CONTROLLER://127.0.0.1:${controller}
advertised.listeners=PLAINTEXT://127.0.0.1:${plain}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
default.replication.factor=${replicas}
min.insync.replicas=1
offsets.topic.replication.factor=${replicas}
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=${replicas}
transaction.state.log.min.isr=${minInSync}
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=${replicas}
share.coordinator.state.topic.min.isr=${minInSync}
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=2
log.cleaner.dedupe.buffer.size=16777216
log.retention.ms=-1
log.retention.check.interval.ms=3600000
# A killed node is noticed in seconds, not Kafka's 9 s (broker session) and 30 s (replica lag): the
# tests kill leaders and wait for the cluster to move them, and these keep that wait short.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
replica.lag.time.max.ms=5000
controller.quorum.election.timeout.ms=1000
controller.quorum.fetch.timeout.ms=2000
# A restarted node takes its leaderships back soon after it has caught up, as production clusters do.
leader.imbalance.check.interval.seconds=5
`
}

/**
 * Starts a cluster of `nodes` combined broker+controller KRaft nodes (a quorum of `nodes` voters) on
 * loopback, PLAINTEXT only, each its own JVM that can be killed with SIGKILL and started again on the
 * same data directory and ports. Resolves once every node serves clients.
 *
 * The returned handle: `bootstrap` (every node's address, comma-separated), `nodes` (ids and addresses),
 * `kill(id)` (SIGKILL, resolves when the process is gone), `start(id)` (starts a killed node again,
 * resolves when it serves), `partition(topic, p)` (leader, replicas and in-sync replicas from a live
 * node's metadata), `coordinatorOf(group)`, `topicConfigs(topic)`, `waitFor(topic, p, test)` (polls that until `test` holds), `stop()` (ends every node
 * and removes the data).
 */
export async function startCluster({nodes = 3, version = KAFKA_VERSION, heap = '512m', log = () => {}} = {}) {
  const lib = kafkaJars({version})
  const dir = mkdtempSync(join(tmpdir(), 'spool-kafka-cluster-'))
  const ids = Array.from({length: nodes}, (_, i) => i + 1)
  const ports = new Map()
  for (const id of ids) ports.set(id, {plain: await freePort(), controller: await freePort()})
  const voters = ids.map((id) => `${id}@127.0.0.1:${ports.get(id).controller}`).join(',')
  // Small, quick JVMs: a test cluster holds little data, and three of them share the machine with the tests.
  const java = ['-Xms128m', `-Xmx${heap}`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto', logConfigFlag(dir, version), '-cp', `${lib}/*`]
  const configs = new Map()
  for (const id of ids) {
    const nodeDir = join(dir, `node-${id}`)
    mkdirSync(nodeDir)
    const config = join(nodeDir, 'server.properties')
    writeFileSync(config, clusterNodeProperties({id, dataDir: join(nodeDir, 'data'), ...ports.get(id), voters, nodes}))
    configs.set(id, config)
  }
  const started = Date.now()
  // Every node formatted with the same cluster id; the static voter list makes them one quorum.
  await Promise.all(
    ids.map(
      (id) =>
        new Promise((resolve, reject) =>
          execFile('java', [...java, 'kafka.tools.StorageTool', 'format', '-t', 'c3Bvb2wtdGVzdC1jbHVzdGVy', '-c', configs.get(id)], (error, _out, stderr) =>
            error ? reject(new Error(`formatting node ${id} failed: ${stderr || error.message}`)) : resolve(),
          ),
        ),
    ),
  )
  log(`starting a ${nodes}-node Kafka ${version} cluster in ${dir}`)

  const running = new Map()
  const spawnNode = (id) => {
    const child = spawn('java', [...java, 'kafka.Kafka', configs.get(id)], {stdio: ['ignore', 'pipe', 'pipe']})
    const node = {child, output: '', exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({code, signal})))}
    const collect = (d) => {
      node.output += d.toString()
      if (node.output.length > 200_000) node.output = node.output.slice(-100_000)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    running.set(id, node)
    return node
  }
  const alive = (node) => node && node.child.exitCode === null && node.child.signalCode === null
  const serving = (id) =>
    new Promise((resolve, reject) => {
      const node = running.get(id)
      const since = Date.now()
      const timer = setInterval(() => {
        if (/Kafka Server started/.test(node.output)) {
          clearInterval(timer)
          resolve()
        } else if (!alive(node) || Date.now() - since > 120_000) {
          clearInterval(timer)
          node.child.kill('SIGKILL')
          reject(new Error(`Kafka node ${id} did not start (${alive(node) ? 'timeout' : `exit ${node.child.exitCode ?? node.child.signalCode}`}):\n${node.output.slice(-4000)}`))
        }
      }, 100)
    })
  // SIGKILL, not SIGTERM: the data goes with the cluster, and the last nodes of a quorum wait out their
  // controlled shutdown (10 s) for a controller majority that has already left.
  const stopAll = async () => {
    for (const node of running.values()) if (alive(node)) node.child.kill('SIGKILL')
    await Promise.all([...running.values()].map((node) => node.exited))
    rmSync(dir, {recursive: true, force: true})
  }
  try {
    for (const id of ids) spawnNode(id)
    await Promise.all(ids.map(serving))
  } catch (error) {
    await stopAll()
    throw error
  }
  log(`${nodes}-node Kafka ${version} cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  const address = (id) => `127.0.0.1:${ports.get(id).plain}`
  const withAdmin = async (fn) => {
    const {Admin} = await import('@platformatic/kafka')
    const live = ids.filter((id) => alive(running.get(id))).map(address)
    const admin = new Admin({clientId: 'spool-test-cluster', bootstrapBrokers: live, retries: 0, connectTimeout: 2000, requestTimeout: 5000})
    try {
      return await fn(admin)
    } finally {
      await admin.close().catch(() => {})
    }
  }
  const cluster = {
    version,
    dir,
    lib,
    bootstrap: ids.map(address).join(','),
    nodes: ids.map((id) => ({id, address: address(id)})),
    pid: (id) => running.get(id)?.child.pid,
    isRunning: (id) => alive(running.get(id)),
    output: (id) => running.get(id)?.output ?? '',
    async kill(id) {
      const node = running.get(id)
      if (!alive(node)) return
      node.child.kill('SIGKILL')
      await node.exited
    },
    async start(id) {
      if (alive(running.get(id))) return
      spawnNode(id)
      await serving(id)
    },
    /** Leader, replicas and in-sync replicas of a partition, as a live node's metadata has them now. */
    partition: (topic, partition = 0) =>
      withAdmin(async (admin) => {
        const metadata = await admin.metadata({topics: [topic], forceUpdate: true})
        const p = metadata.topics.get(topic)?.partitions[partition]
        if (!p) throw new Error(`no partition ${topic}/${partition} in the cluster's metadata`)
        return {leader: p.leader, replicas: [...p.replicas], isr: [...p.isr]}
      }),
    /** The node coordinating a consumer group (FindCoordinator). */
    coordinatorOf: (group) =>
      withAdmin(async (admin) => {
        const [found] = await admin.findCoordinator({keyType: 0, keys: [group]})
        return found.nodeId
      }),
    /** A topic's configuration as the cluster reports it (DescribeConfigs), name to value. */
    topicConfigs: (topic) =>
      withAdmin(async (admin) => {
        const [described] = await admin.describeConfigs({resources: [{resourceType: 2, resourceName: topic}]})
        return Object.fromEntries(described.configs.map((c) => [c.name, c.value]))
      }),
    /** Polls the partition's metadata until `test` holds (every 200 ms, up to `timeoutMs`). */
    async waitFor(topic, partition, test, {timeoutMs = 60_000} = {}) {
      const deadline = Date.now() + timeoutMs
      let last
      for (;;) {
        last = await cluster.partition(topic, partition).catch((error) => ({error: error.message}))
        if (!last.error && test(last)) return last
        if (Date.now() > deadline) throw new Error(`${topic}/${partition} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`)
        await new Promise((r) => setTimeout(r, 200))
      }
    },
    stop: stopAll,
  }
  return cluster
}

/** Runs one of Kafka's own Java tools (console consumer, perf tools) against the cached jars. */
export function kafkaToolCommand(mainClass, args, {version = KAFKA_VERSION} = {}) {
  const lib = kafkaJars({version})
  return ['java', ['-Xmx512m', logConfigFlag(dirname(lib), version, {toStderr: true}), '-cp', `${lib}/*`, mainClass, ...args]]
}

/** Kafka's ACL tool (kafka-acls.sh): Kafka 3.x has it in the Scala core, 4.x in its tools. */
export function aclCommandClass(version = KAFKA_VERSION) {
  return isKafka3(version) ? 'kafka.admin.AclCommand' : 'org.apache.kafka.tools.AclCommand'
}

/** The console producer's main class: Kafka 3.x still has it in the Scala core. */
export function consoleProducerClass(version = KAFKA_VERSION) {
  return isKafka3(version) ? 'kafka.tools.ConsoleProducer' : 'org.apache.kafka.tools.ConsoleProducer'
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv[2]
  if (command === 'fetch') {
    // Both lines the tests run against, unless SPOOL_KAFKA_VERSION names one.
    for (const version of process.env.SPOOL_KAFKA_VERSION ? [KAFKA_VERSION] : [DEFAULT_KAFKA_VERSION, KAFKA_3_VERSION]) console.log(kafkaJars({quiet: false, version}))
  } else if (command === 'start') {
    const broker = await startBroker({log: (line) => process.stderr.write(`${line}\n`)})
    console.log(`plaintext: kafka://${broker.plaintext}\nsasl:      kafka://${broker.sasl} (users: ${Object.keys(SASL_USERS).join(', ')}; only ${RESTRICTED_USER} is subject to ACLs)`)
    console.log(`tls:       kafka://${broker.tls} (--tls-ca ${broker.certificates.ca} --tls-cert ${broker.certificates.cert} --tls-key ${broker.certificates.key})`)
    const stop = async () => {
      await broker.stop()
      process.exit(0)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  } else if (command === 'cluster') {
    const cluster = await startCluster({log: (line) => process.stderr.write(`${line}\n`)})
    console.log(`bootstrap: kafka://${cluster.bootstrap}`)
    for (const node of cluster.nodes) console.log(`node ${node.id}:    ${node.address} (pid ${cluster.pid(node.id)})`)
    const stop = async () => {
      await cluster.stop()
      process.exit(0)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  } else {
    process.stderr.write('usage: node scripts/kafka-broker.mjs fetch|start|cluster\n')
    process.exit(2)
  }
}
