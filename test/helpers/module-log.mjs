// Loaded with `node --import`: records every module the process resolves into $SPOOL_MODULE_LOG, so a
// test can see which heavy modules a command loads.
import {register} from 'node:module'

register('./module-log-hooks.mjs', import.meta.url, {data: {log: process.env.SPOOL_MODULE_LOG}})
