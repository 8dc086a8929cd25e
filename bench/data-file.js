// Input files for the benches: generated once into bench/.data and kept. Each is written beside its
// name and renamed when complete, so an interrupted bench never leaves a short file to be reused.
import {createWriteStream, existsSync, mkdirSync, renameSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const dataDir = join(dirname(fileURLToPath(import.meta.url)), '.data')

/** bench/.data/NAME holding lineAt(0) ... lineAt(count - 1), each followed by a newline. */
export async function dataFile(name, count, lineAt, log) {
  mkdirSync(dataDir, {recursive: true})
  const file = join(dataDir, name)
  if (existsSync(file)) return file
  log(`writing ${count.toLocaleString('en-US')} lines to ${file}`)
  const partial = `${file}.partial-${process.pid}`
  const out = createWriteStream(partial)
  let chunk = ''
  for (let i = 0; i < count; i++) {
    chunk += `${lineAt(i)}\n`
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r))
      chunk = ''
    }
  }
  out.end(chunk)
  await new Promise((r) => out.on('finish', r))
  renameSync(partial, file)
  return file
}
