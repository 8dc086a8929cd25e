// Bundled in place of the `debug` package for @oclif/core's logger (scripts/bundle.js). With DEBUG set
// it is the real module. Without it every debug function is off, as the real module's would be (it
// reads DEBUG once, when it loads; oclif never enables namespaces itself), and nothing else loads.
if (process.env.DEBUG) {
  module.exports = require('debug')
} else {
  const createDebug = (namespace) => {
    const debug = () => {}
    debug.namespace = namespace
    debug.enabled = false
    debug.extend = (sub, delimiter = ':') => createDebug(`${namespace}${delimiter}${sub}`)
    return debug
  }
  createDebug.enabled = () => false
  module.exports = createDebug
}
