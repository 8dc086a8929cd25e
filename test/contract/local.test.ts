import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {LocalBackend} from '../../src/backends/local/local-store.js'
import {backendContract} from './backend-contract.js'

// The local store on a real SQLite file; `second` is another connection to the same file, as another
// process would have.
backendContract('local store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-contract-'))
  const path = join(dir, 'spool.db')
  return {
    backend: new LocalBackend({path}),
    second: async () => new LocalBackend({path}),
    cleanup: async () => rmSync(dir, {recursive: true, force: true}),
  }
})
