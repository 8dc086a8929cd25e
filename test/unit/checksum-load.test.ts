import {createRequire} from 'node:module'
import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {crc32cJs, crc32cNative} from '../../src/core/checksum.js'

// Its own file: checksum.test.ts loads @node-rs/crc32 itself, and the module cache is per process.
describe('loading the native CRC-32C', () => {
  it('on glibc Linux takes the platform build directly, without the package loader that probes for it, and gives the same values', () => {
    const data = randomBytes(100_000)
    expect(crc32cNative(data)).toBe(crc32cJs(data))
    const cache = createRequire(import.meta.url).cache
    const loaded = Object.keys(cache)
    const loader = loaded.some((path) => /[\\/]@node-rs[\\/]crc32[\\/]index\.js$/.test(path))
    const build = loaded.some((path) => /[\\/]@node-rs[\\/]crc32-linux-(x64|arm64)-gnu[\\/]/.test(path))
    const glibcLinux = process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch) && Boolean((process.report.getReport() as {header?: {glibcVersionRuntime?: string}}).header?.glibcVersionRuntime)
    // Elsewhere the package's loader is what finds the build: either way one of the two is loaded.
    expect({loader, build}).toEqual(glibcLinux ? {loader: false, build: true} : {loader: true, build})
  })
})
