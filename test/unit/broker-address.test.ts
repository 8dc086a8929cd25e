import {describe, expect, it} from 'vitest'
import {parseBrokerAddress} from '../../src/backends/index.js'
import {UsageError} from '../../src/core/errors.js'

// -b and SPOOL_BROKER: file:PATH, a bare path, or kafka://host:port[,...]; nothing else.
describe('parseBrokerAddress', () => {
  const env = {SPOOL_HOME: '/home/u/.spool'}
  it.each([
    ['file:./feeds.db', {kind: 'local'}],
    ['./a:b.db', {kind: 'local'}],
    ['file:./a:b.db', {kind: 'local'}],
    ['kafka://k1:9092,k2:9093', {kind: 'kafka', brokers: ['k1:9092', 'k2:9093']}],
  ])('takes %j', (address, expected) => {
    expect(parseBrokerAddress(address, env)).toMatchObject(expected)
  })

  it.each([
    // A mistyped scheme made a store in a directory named after it (./kafka:/localhost:9092).
    ['kafka:/localhost:9092', /has an unknown scheme/],
    ['FILE:/tmp/x.db', /has an unknown scheme/],
    ['http://k1:9092', /has an unknown scheme/],
    ['kafka://k1:99999', /has port 99999$/],
    ['kafka://k1', /is not valid/],
    ['foo', /is not valid/],
  ])('refuses %j with one usage line', (address, message) => {
    expect(() => parseBrokerAddress(address, env)).toThrow(UsageError)
    expect(() => parseBrokerAddress(address, env)).toThrow(message)
  })
})
