import assert from 'node:assert/strict'

import {parseDuration} from '../../src/args/duration.js'
import {assertUsageError} from './usage-error.js'

describe('parseDuration', () => {
  it('reads milliseconds, seconds, minutes, hours and bare seconds', () => {
    assert.equal(parseDuration('500ms', 'x'), 500)
    assert.equal(parseDuration('10s', 'x'), 10_000)
    assert.equal(parseDuration('1.5s', 'x'), 1500)
    assert.equal(parseDuration('2m', 'x'), 120_000)
    assert.equal(parseDuration('1h', 'x'), 3_600_000)
    assert.equal(parseDuration('3', 'x'), 3000)
    assert.equal(parseDuration('0', 'x'), 0)
  })

  it('refuses what is not a duration', () => {
    for (const value of ['', 'soon', '-1s', '10 seconds', '1d']) {
      assertUsageError(() => parseDuration(value, 'drain-timeout'),
        /--drain-timeout ".*" is not a duration/)
    }
  })

  it('refuses a duration longer than a timer can hold, which would fire at once', () => {
    assertUsageError(() => parseDuration('1000h', 'ping-interval'),
      /--ping-interval "1000h" is too long/)
  })
})
