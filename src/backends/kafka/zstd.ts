import {compressionsAlgorithms} from '@platformatic/kafka'

let installed: Promise<void> | undefined

/**
 * zstd for Node 20, whose zlib has none: the Kafka client's codec table is patched with a WebAssembly
 * zstd (no native build, nothing downloaded). Node 22.15+ has zlib zstd and is left alone.
 */
export function installZstd(): Promise<void> {
  return (installed ??= (async () => {
    const codec = compressionsAlgorithms.zstd as {compressSync: (data: unknown) => Buffer; decompressSync: (data: unknown) => Buffer; available: boolean}
    if (codec.available) return
    const zstd = await import('@bokuweb/zstd-wasm')
    await zstd.init()
    const bytes = (data: unknown): Uint8Array => ((data as {buffer?: unknown}).buffer instanceof Uint8Array ? ((data as {buffer: Uint8Array}).buffer) : (data as Uint8Array))
    codec.compressSync = (data) => Buffer.from(zstd.compress(bytes(data), 3))
    codec.decompressSync = (data) => {
      // Frames written by streaming compressors (the Java client) do not record their size: grow the
      // output buffer until the frame fits.
      const input = bytes(data)
      for (let size = 1 << 20; ; size *= 4) {
        try {
          return Buffer.from(zstd.decompress(input, {defaultHeapSize: size}))
        } catch (error) {
          if (size >= 1 << 30) throw error
        }
      }
    }
    codec.available = true
  })())
}
