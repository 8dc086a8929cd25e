// Bundled in place of the Ajv instance that @platformatic/kafka builds when it loads (scripts/bundle.js).
// The client compiles about 45 JSON-schema validators of its own options at load: ~300 ms, half of a
// Kafka command's start-up. It calls a validator only with `strict: true` (off by default, and spool
// leaves it off), so spool never uses one. Here each validator compiles the first time it is called,
// and Ajv itself (a few dozen CommonJS modules) loads only then. What a validator answers is unchanged.
export function lazyAjv(loadAjv) {
  let ajv
  // addKeyword (custom keywords, registered at load) waits for the real instance; anything else that a
  // later client version calls on the instance creates it first, so an upgrade is slower, never wrong.
  const pending = []
  const real = () => {
    if (ajv === undefined) {
      ajv = loadAjv()
      for (const definition of pending.splice(0)) ajv.addKeyword(definition)
    }
    return ajv
  }
  const lazy = {
    addKeyword(definition) {
      if (ajv === undefined) pending.push(definition)
      else ajv.addKeyword(definition)
      return proxy
    },
    compile(schema) {
      let compiled
      // Ajv's validators report through their own `errors` property, read after the call.
      const validate = function (data, ...rest) {
        compiled ??= real().compile(schema)
        const valid = compiled.call(this, data, ...rest)
        validate.errors = compiled.errors
        return valid
      }
      validate.errors = null
      validate.schema = schema
      return validate
    },
  }
  const proxy = new Proxy(lazy, {
    get(target, property) {
      if (Object.hasOwn(target, property)) return target[property]
      const value = real()[property]
      return typeof value === 'function' ? value.bind(ajv) : value
    },
  })
  return proxy
}
