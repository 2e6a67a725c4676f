import assert from 'node:assert/strict'

import {parsePort, parsePortSpecs} from '../../src/args/port-spec.js'
import {assertUsageError} from './usage-error.js'

describe('parsePortSpecs', () => {
  it('forwards a single port to the same local port', () => {
    assert.deepEqual(parsePortSpecs(['5432']), [{local: 5432, remote: 5432}])
  })

  it('reads two bare numbers as REMOTE_PORT then LOCAL_PORT', () => {
    assert.deepEqual(parsePortSpecs(['5432', '15432']), [{local: 15_432, remote: 5432}])
  })

  it('reads LOCAL:REMOTE in kubectl order, and :REMOTE as a local port the system chooses', () => {
    assert.deepEqual(parsePortSpecs(['15432:5432']), [{local: 15_432, remote: 5432}])
    assert.deepEqual(parsePortSpecs([':5432']), [{local: 0, remote: 5432}])
    assert.deepEqual(parsePortSpecs(['0:5432']), [{local: 0, remote: 5432}])
    assert.deepEqual(parsePortSpecs(['5432', '0']), [{local: 0, remote: 5432}])
  })

  it('accepts several LOCAL:REMOTE pairs beside one bare port', () => {
    assert.deepEqual(parsePortSpecs(['8080:80', '9229', ':443']), [
      {local: 8080, remote: 80}, {local: 9229, remote: 9229}, {local: 0, remote: 443},
    ])
  })

  it('accepts the edges of the port range', () => {
    assert.deepEqual(parsePortSpecs(['1', '65535']), [{local: 65_535, remote: 1}])
  })

  it('refuses an empty list of ports and says what to add', () => {
    assertUsageError(() => parsePortSpecs([]), /^no port given: add the remote port/)
  })

  it('refuses ports that are not whole numbers in 1..65535', () => {
    const cases: Array<[string[], RegExp]> = [
      [['abc'], /^remote port "abc" is not valid: use a whole number in 1\.\.65535$/],
      [['70000'], /^remote port "70000" is not valid/],
      [['65536'], /^remote port "65536" is not valid/],
      [['0'], /^remote port "0" is not valid: use a whole number in 1\.\.65535$/],
      [['-1'], /^remote port "-1" is not valid/],
      [['80.5'], /^remote port "80\.5" is not valid/],
      [['1e3'], /^remote port "1e3" is not valid/],
      [['0x50'], /^remote port "0x50" is not valid/],
      [['15432:0'], /^remote port "0" is not valid/],
      [['15432:'], /^remote port "" is not valid/],
      [['abc:80'], /^local port "abc" is not valid: use a whole number in 0 \(any free port\)/],
      [['70000:80'], /^local port "70000" is not valid/],
      [['80', '70000'], /^local port "70000" is not valid/],
      [['0', '80'], /^remote port "0" is not valid/],
    ]
    for (const [words, message] of cases) assertUsageError(() => parsePortSpecs(words), message)
  })

  it('refuses three bare numbers as ambiguous and shows the LOCAL:REMOTE form', () => {
    assertUsageError(() => parsePortSpecs(['1', '2', '3']),
      /^ports "1 2 3" are ambiguous: .*write each as LOCAL:REMOTE/)
    assertUsageError(() => parsePortSpecs(['80', '81', '8080:80']), /are ambiguous/)
  })

  it('refuses a word with two colons', () => {
    assertUsageError(() => parsePortSpecs(['0:80:1']),
      /^port "0:80:1" is not valid: write REMOTE, LOCAL:REMOTE or :REMOTE$/)
  })

  it('refuses one local port given for two remote ports', () => {
    assertUsageError(() => parsePortSpecs(['8080:80', '8080:81']),
      /^local port 8080 is given twice/)
  })
})

describe('parsePort', () => {
  it('allows 0 only where the system may choose the port', () => {
    assert.equal(parsePort('0', 'local', true), 0)
    assertUsageError(() => parsePort('0', 'local'),
      /^local port "0" is not valid: use a whole number in 1\.\.65535$/)
  })

  it('refuses a number too large to be exact', () => {
    assertUsageError(() => parsePort('99999999999999999999', 'remote'), /is not valid/)
  })
})
