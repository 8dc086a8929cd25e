import {describe, expect, it} from 'vitest'
import {describeParseError} from '../../src/cli/base-command.js'

describe('describeParseError', () => {
  it('turns oclif messages into one line with a pointer to --help', () => {
    expect(describeParseError('Nonexistent flag: --bogus\nSee more help with --help', 'consume')).toBe('nonexistent flag: --bogus (see: spool consume --help)')
    expect(
      describeParseError(
        'Missing 1 required arg:\ntopic  Topics to read (one or more).\n\nNote: --partition allows multiple values.\nAlternatively, you can use "--".\nSee more help with --help',
        'consume',
      ),
    ).toBe('missing TOPIC (see: spool consume --help)')
    expect(describeParseError('Parsing --partition \n\tExpected an integer but received: abc\nSee more help with --help', 'topic:create')).toBe(
      '--partition: expected an integer but received: abc (see: spool topic create --help)',
    )
    expect(describeParseError('The following error occurred:\n  --json=true cannot also be provided when using --format\nSee more help with --help', undefined)).toBe(
      '--json=true cannot also be provided when using --format',
    )
  })
})
