import assert from 'node:assert/strict'

import {ExitCode, isForwardError} from '../../src/errors/index.js'

/** Asserts that `parse` refuses its input with a one-line usage error matching `message`. */
export function assertUsageError(parse: () => unknown, message: RegExp): void {
  assert.throws(parse, (error: unknown) => {
    assert.ok(isForwardError(error), `not a ForwardError: ${error}`)
    assert.equal(error.exitCode, ExitCode.Usage)
    assert.equal(error.reason, 'usage')
    assert.doesNotMatch(error.message, /\n/)
    assert.match(error.message, message)
    return true
  })
}
