// Loaded with `node --require bench/socket-trace.cjs bin/run.js ...`: logs to stderr, when the process
// exits, every TCP connect, every write (with the Kafka request's API key, version and correlation id)
// and every read, in ms since the process started, and the exit. Shows how many requests and connections
// a command makes and where its wall time goes between start-up and the network (docs/BENCHMARKS.md,
// "One record to Kafka and peak RSS").
const net = require('node:net')
const {performance} = require('node:perf_hooks')

const events = []
const at = () => performance.now().toFixed(1)
const ids = new WeakMap()
let sockets = 0

const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  const id = ++sockets
  ids.set(this, id)
  const options = Array.isArray(args[0]) ? args[0][0] : args[0]
  events.push(`${at()} connect#${id} ${typeof options === 'object' ? `${options.host}:${options.port}` : options}`)
  this.once('connect', () => events.push(`${at()} connected#${id}`))
  this.on('data', (data) => events.push(`${at()} read#${id} ${data.length} B${data.length >= 8 ? ` correlation ${data.readInt32BE(4)}` : ''}`))
  return connect.apply(this, args)
}

// A request may be written in parts (its size, header and body: scripts/bundle.js), so each socket's
// writes are followed as a stream of requests: the first 12 bytes of each (size, API key, version,
// correlation id) are gathered across parts, and the rest of its size is skipped.
const requests = new WeakMap()
const write = net.Socket.prototype.write
net.Socket.prototype.write = function (chunk, ...rest) {
  const id = ids.get(this)
  if (id !== undefined && Buffer.isBuffer(chunk)) {
    const stream = requests.get(this) ?? {head: Buffer.alloc(0), remaining: 0}
    requests.set(this, stream)
    for (let data = chunk; data.length > 0; ) {
      if (stream.remaining > 0) {
        const skipped = Math.min(stream.remaining, data.length)
        stream.remaining -= skipped
        data = data.subarray(skipped)
        continue
      }
      const taken = Math.min(12 - stream.head.length, data.length)
      stream.head = Buffer.concat([stream.head, data.subarray(0, taken)])
      data = data.subarray(taken)
      if (stream.head.length < 12) continue
      const head = stream.head
      const size = head.readInt32BE(0) + 4
      events.push(`${at()} write#${id} api ${head.readInt16BE(4)} v${head.readInt16BE(6)} correlation ${head.readInt32BE(8)} ${size} B`)
      stream.remaining = size - 12
      stream.head = Buffer.alloc(0)
    }
  }
  return write.call(this, chunk, ...rest)
}

process.on('exit', () => {
  events.push(`${at()} exit`)
  process.stderr.write(`${events.join('\n')}\n`)
})
