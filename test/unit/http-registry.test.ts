import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {RegistryError, UnknownSchemaError} from '../../src/schemas/registry.js'
import {HttpRegistry} from '../../src/schemas/http-registry.js'

// The registry client against a real HTTP server on loopback that answers as a refusing (or silent)
// registry would: each refusal is one line that says which.

let server: Server | undefined
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

async function answering(status: number, body: unknown, seen: {authorization?: string} = {}): Promise<string> {
  server = createServer((req, res) => {
    seen.authorization = req.headers.authorization
    if (status === 0) return // never answers
    res.writeHead(status, {'content-type': 'application/vnd.schemaregistry.v1+json'})
    res.end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const schema = {type: 'AVRO' as const, schema: '"string"', references: []}

describe('HttpRegistry', () => {
  it('sends basic auth and says when the credentials are refused (401) or the permission lacks (403)', async () => {
    const seen: {authorization?: string} = {}
    const url = await answering(401, {error_code: 40101, message: 'Unauthorized'}, seen)
    const error = await new HttpRegistry({url, username: 'app', password: 's3cret', timeoutMs: 2000}).register('s', schema).catch((e) => e)
    expect(seen.authorization).toBe(`Basic ${Buffer.from('app:s3cret').toString('base64')}`)
    expect(error).toBeInstanceOf(RegistryError)
    expect(error.message).toMatch(/refused the credentials \(401 Unauthorized\)/)
    expect(error.message).not.toMatch(/s3cret/)
    server!.close()
    const forbidden = await answering(403, {error_code: 40301, message: 'Forbidden'})
    expect((await new HttpRegistry({url: forbidden, timeoutMs: 2000}).subjects().catch((e) => e)).message).toMatch(/denied GET subjects \(403 Forbidden\)/)
  })

  it('409 and 422 say incompatible and invalid, with the registry\'s words', async () => {
    const url = await answering(409, {error_code: 409, message: 'Schema being registered is incompatible'})
    expect((await new HttpRegistry({url, timeoutMs: 2000}).register('s', schema).catch((e) => e)).message).toMatch(/incompatible \(409\): Schema being registered is incompatible/)
    server!.close()
    const invalid = await answering(422, {error_code: 42201, message: 'Invalid schema'})
    expect((await new HttpRegistry({url: invalid, timeoutMs: 2000}).register('s', schema).catch((e) => e)).message).toMatch(/invalid \(422\): Invalid schema/)
  })

  it('an unknown id is UnknownSchemaError; a registry that never answers fails within the timeout', async () => {
    const url = await answering(404, {error_code: 40403, message: 'Schema 9 not found'})
    expect(await new HttpRegistry({url, timeoutMs: 2000}).schemaById(9).catch((e) => e)).toBeInstanceOf(UnknownSchemaError)
    server!.close()
    const silent = await answering(0, null)
    const error = await new HttpRegistry({url: silent, timeoutMs: 300}).schemaById(1).catch((e) => e)
    expect(error.message).toMatch(/unreachable \(no answer within 0\.3s\)/)
  })

  it('connection refused and a URL that is not one', async () => {
    expect((await new HttpRegistry({url: 'http://127.0.0.1:1', timeoutMs: 2000}).subjects().catch((e) => e)).message).toMatch(/unreachable \(connection refused\)/)
    expect(() => new HttpRegistry({url: 'ftp://x', timeoutMs: 1})).toThrow(/not a registry URL/)
  })
})
