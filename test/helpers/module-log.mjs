// Loaded with `node --import`: records every module the process resolves (imports and requires) into
// $SPOOL_MODULE_LOG, so a test can see which heavy modules a command loads. In-thread hooks
// (module.registerHooks, Node 22.15+): module.register's off-thread hooks are deprecated since Node 26,
// whose warning would be on every command's stderr.
import {appendFileSync} from 'node:fs'
import {registerHooks} from 'node:module'

const log = process.env.SPOOL_MODULE_LOG

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context)
    if (log) appendFileSync(log, `${resolved.url}\n`)
    return resolved
  },
})
