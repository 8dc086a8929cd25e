import {Ajv2020} from 'ajv/dist/2020.js'
import {describe, expect, it} from 'vitest'
// The stand-in for the Kafka client's Ajv instance that scripts/bundle.js puts in the bundle.
import {lazyAjv} from '../../scripts/lazy-ajv.js'

// As the client sets its instance up (its utils.js): options and a custom keyword added at load.
const options = {allErrors: true, coerceTypes: false, strict: true}
const bigint = {keyword: 'bigint', validate: (_: unknown, x: unknown) => typeof x === 'bigint', error: {message: 'must be bigint'}}
const schema = {
  type: 'object',
  properties: {clientId: {type: 'string', minLength: 1}, retries: {type: 'integer', minimum: 0}, offset: {bigint: true}},
  required: ['clientId'],
  additionalProperties: false,
}

function counted() {
  const counts = {created: 0, compiled: 0}
  const ajv = lazyAjv(() => {
    counts.created++
    const real = new Ajv2020(options)
    const compile = real.compile.bind(real)
    real.compile = ((s: object) => (counts.compiled++, compile(s))) as typeof real.compile
    return real
  })
  ajv.addKeyword(bigint)
  return {ajv, counts}
}

describe('the lazy Ajv of the bundled Kafka client', () => {
  it('neither creates Ajv nor compiles a validator until a validator is called, then compiles it once', () => {
    const {ajv, counts} = counted()
    const validate = ajv.compile(schema)
    ajv.compile({type: 'string'})
    expect(counts).toEqual({created: 0, compiled: 0})
    validate({clientId: 'spool'})
    validate({clientId: 'spool', retries: 1})
    expect(counts).toEqual({created: 1, compiled: 1})
  })

  it('answers as the eager instance does: results, errors, errorsText, keywords added before it existed', () => {
    const eager = new Ajv2020(options)
    eager.addKeyword(bigint)
    const eagerValidate = eager.compile(schema)
    const {ajv} = counted()
    const validate = ajv.compile(schema)
    for (const data of [{clientId: 'spool', offset: 1n}, {clientId: '', retries: -1, offset: 1, extra: true}, {}, 'text']) {
      expect(validate(data)).toBe(eagerValidate(data))
      expect(validate.errors).toEqual(eagerValidate.errors)
      expect(ajv.errorsText(validate.errors, {dataVar: '/options'})).toBe(eager.errorsText(eagerValidate.errors, {dataVar: '/options'}))
    }
    expect(validate({clientId: 'x', offset: 1})).toBe(false)
    expect(ajv.errorsText(validate.errors)).toContain('must be bigint')
  })
})
