import {Args, Flags} from '@oclif/core'
import {type RegistrySettings, readContexts, validateContextName, writeContexts} from '../../src/backends/contexts.js'
import {parseBrokerAddress} from '../../src/backends/index.js'
import {COMPRESSIONS, saslMechanism, type KafkaSettings} from '../../src/backends/kafka/settings.js'
import {SpoolCommand} from '../../src/cli/base-command.js'
import {UsageError} from '../../src/core/errors.js'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

export default class ContextAdd extends SpoolCommand {
  static override enableJsonFlag = true
  static override summary = 'Name a Kafka cluster (address, TLS, SASL) so commands can use it by name.'
  static override description = `Contexts live in $XDG_CONFIG_HOME/spool/contexts.json (~/.config/spool), written with mode 0600. A password is read from stdin (--password-stdin), never from the command line, and never printed. Instead of storing it, SPOOL_SASL_PASSWORD can supply it when a command runs (SPOOL_REGISTRY_PASSWORD for the registry's).`
  static override examples = [
    {description: 'A cluster without authentication, made current', command: '<%= config.bin %> <%= command.id %> dev -b kafka://localhost:9092 --use'},
    {description: 'With its schema registry, for --decode and produce --value-schema', command: '<%= config.bin %> <%= command.id %> dev -b kafka://localhost:9092 --registry http://localhost:8081'},
    {
      description: 'SCRAM over TLS, the password from a secrets manager',
      command: "pass show kafka/prod | <%= config.bin %> <%= command.id %> prod -b kafka://k1:9093,k2:9093 --tls --tls-ca ca.pem --sasl-mechanism SCRAM-SHA-512 --username app --password-stdin",
    },
  ]
  static override args = {name: Args.string({description: 'Context name.', required: true})}
  static override flags = {
    'sasl-mechanism': Flags.string({summary: 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.', helpGroup: 'AUTH'}),
    username: Flags.string({summary: 'SASL user name.', helpGroup: 'AUTH'}),
    'password-stdin': Flags.boolean({summary: 'Read the SASL password from stdin and store it in the context file (mode 0600).', helpGroup: 'AUTH'}),
    tls: Flags.boolean({summary: 'Connect with TLS (the system CAs unless --tls-ca).', helpGroup: 'TLS'}),
    'tls-ca': Flags.string({summary: 'PEM file of the CA to trust.', helpGroup: 'TLS'}),
    'tls-cert': Flags.string({summary: 'PEM client certificate (mutual TLS).', helpGroup: 'TLS'}),
    'tls-key': Flags.string({summary: 'PEM client key (mutual TLS).', helpGroup: 'TLS'}),
    'tls-insecure': Flags.boolean({summary: 'Do not verify the broker certificate or its host name (testing only).', helpGroup: 'TLS'}),
    compression: Flags.string({summary: 'Compression for records produced through this context.', options: [...COMPRESSIONS]}),
    registry: Flags.string({summary: "The cluster's schema registry (http[s]://host:port[/path]), used by --decode, produce --value-schema and schema commands.", helpGroup: 'SCHEMAS'}),
    'registry-username': Flags.string({summary: 'Registry user name (basic auth).', helpGroup: 'SCHEMAS'}),
    'registry-password-stdin': Flags.boolean({summary: 'Read the registry password from stdin and store it in the context file (mode 0600).', helpGroup: 'SCHEMAS', exclusive: ['password-stdin']}),
    'registry-ca': Flags.string({summary: 'PEM file of the CAs to trust for an https registry.', helpGroup: 'SCHEMAS'}),
    use: Flags.boolean({summary: 'Make it the current context.'}),
    force: Flags.boolean({summary: 'Replace a context of the same name.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(ContextAdd)
    const name = validateContextName(args.name)
    if (!flags.broker) throw new UsageError('a context needs a broker address', `e.g. spool context add ${name} -b kafka://localhost:9092`)
    const address = parseBrokerAddress(flags.broker)
    if (address.kind !== 'kafka') throw new UsageError('contexts name Kafka clusters', 'for a local store use -b file:PATH or SPOOL_BROKER')
    const file = readContexts()
    if (file.contexts[name] && !flags.force) throw new UsageError(`context '${name}' exists`, 'add --force to replace it')
    const settings: KafkaSettings = {}
    if (flags['sasl-mechanism'] || flags.username || flags['password-stdin']) {
      if (!flags.username) throw new UsageError('SASL needs --username')
      settings.sasl = {mechanism: saslMechanism(flags['sasl-mechanism'] ?? 'PLAIN'), username: flags.username}
      if (flags['password-stdin']) {
        if (process.stdin.isTTY) this.streams.err.write('Password (then Ctrl-D): ')
        settings.sasl.password = await readStdin()
        if (!settings.sasl.password) throw new UsageError('the password read from stdin is empty')
      }
    }
    if (flags.tls || flags['tls-ca'] || flags['tls-cert'] || flags['tls-key'] || flags['tls-insecure'])
      settings.tls = {ca: flags['tls-ca'], cert: flags['tls-cert'], key: flags['tls-key'], insecure: flags['tls-insecure'] || undefined}
    if (flags.timeout) settings.timeoutMs = flags.timeout
    if (flags.compression) settings.compression = flags.compression as KafkaSettings['compression']
    let registry: RegistrySettings | undefined
    if (flags.registry) {
      registry = {url: flags.registry, username: flags['registry-username'], ca: flags['registry-ca']}
      if (flags['registry-password-stdin']) {
        if (process.stdin.isTTY) this.streams.err.write('Registry password (then Ctrl-D): ')
        registry.password = await readStdin()
        if (!registry.password) throw new UsageError('the registry password read from stdin is empty')
      }
    } else if (flags['registry-username'] || flags['registry-password-stdin'] || flags['registry-ca'])
      throw new UsageError('--registry-username, --registry-password-stdin and --registry-ca go with --registry URL')
    file.contexts[name] = {broker: flags.broker, ...(Object.keys(settings).length > 0 ? {settings} : {}), ...(registry ? {registry} : {})}
    // Only --use (or context use) switches: a context that became current by itself would send later
    // commands without -b to a cluster the user did not pick.
    if (flags.use) file.current = name
    writeContexts(file)
    const inUse = file.current === name
    if (this.jsonEnabled()) return {context: name, broker: flags.broker, current: inUse}
    this.streams.err.write(`spool: context '${name}' saved${inUse ? ' and in use' : `; use it with --context ${name}, or make it current with: spool context use ${name}`}\n`)
  }
}
