import assert from 'node:assert/strict'

import {parseTarget} from '../../src/args/target.js'
import {assertUsageError} from './usage-error.js'

describe('parseTarget', () => {
  it('splits <project>/<service> at the slash', () => {
    assert.deepEqual(parseTarget('shop/db'), {project: 'shop', service: 'db'})
    assert.deepEqual(parseTarget('team-a.shop/read-replica.2'),
      {project: 'team-a.shop', service: 'read-replica.2'})
  })

  it('accepts names of exactly 253 characters', () => {
    const name = 'a'.repeat(253)
    assert.deepEqual(parseTarget(`${name}/${name}`), {project: name, service: name})
  })

  it('refuses a target without a slash and shows the expected form', () => {
    assertUsageError(() => parseTarget('shop'),
      /^target "shop" has no "\/": write it as <project>\/<service>/)
  })

  it('refuses an empty project or an empty service, naming which one is empty', () => {
    assertUsageError(() => parseTarget('/db'), /^target "\/db" has an empty project/)
    assertUsageError(() => parseTarget('shop/'), /^target "shop\/" has an empty service/)
    assertUsageError(() => parseTarget('/'), /has an empty project/)
  })

  it('refuses names that break the DNS-subdomain rule and states the rule', () => {
    const cases: Array<[string, RegExp]> = [
      ['Shop/db', /^project name "Shop" is not valid/],
      ['shop/db_1', /^service name "db_1" is not valid/],
      ['-shop/db', /^project name "-shop" is not valid/],
      ['shop/db-', /^service name "db-" is not valid/],
      ['shop/.db', /^service name ".db" is not valid/],
      ['shop/db/extra', /^service name "db\/extra" is not valid/],
      ['shop/d b', /^service name "d b" is not valid/],
      [`${'a'.repeat(254)}/db`, /^project name "a{254}" is not valid/],
    ]
    for (const [word, message] of cases) {
      assertUsageError(() => parseTarget(word), message)
      assertUsageError(() => parseTarget(word), /lowercase letters, digits, "-" and "\."/)
    }
  })
})
