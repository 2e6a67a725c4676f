import assert from 'node:assert/strict'

import {formatHostPort, parseNodeAddress} from '../../src/args/node-address.js'
import {assertUsageError} from './usage-error.js'

describe('parseNodeAddress', () => {
  it('reads host:port as a ws: agent', () => {
    assert.deepEqual(parseNodeAddress('10.0.0.7:9090'),
      {host: '10.0.0.7', port: 9090, scheme: 'ws:'})
    assert.deepEqual(parseNodeAddress('node-a.internal:1'),
      {host: 'node-a.internal', port: 1, scheme: 'ws:'})
  })

  it('reads a bracketed IPv6 address and keeps the host without brackets', () => {
    assert.deepEqual(parseNodeAddress('[::1]:9090'), {host: '::1', port: 9090, scheme: 'ws:'})
    assert.deepEqual(parseNodeAddress('[fd00::7]:65535'),
      {host: 'fd00::7', port: 65_535, scheme: 'ws:'})
  })

  it('reads ws:// and wss:// prefixes, in any case, with or without a trailing slash', () => {
    assert.deepEqual(parseNodeAddress('ws://10.0.0.7:9090'),
      {host: '10.0.0.7', port: 9090, scheme: 'ws:'})
    assert.deepEqual(parseNodeAddress('wss://agent.example:443/'),
      {host: 'agent.example', port: 443, scheme: 'wss:'})
    assert.deepEqual(parseNodeAddress('WSS://[::1]:9443'),
      {host: '::1', port: 9443, scheme: 'wss:'})
  })

  it('refuses addresses that are not host:port and shows the accepted forms', () => {
    const bad = [
      'nope', '10.0.0.7', '10.0.0.7:', ':9090', '10.0.0.7:0', '10.0.0.7:65536', '10.0.0.7:99999',
      '10.0.0.7:90a', '::1:9090', '[::1]', '[zz]:9090', '[10.0.0.7]:9090', 'http://10.0.0.7:9090',
      'ws://10.0.0.7:9090/api', 'ws://10.0.0.7', '', ' ',
    ]
    for (const value of bad) {
      assertUsageError(() => parseNodeAddress(value),
        new RegExp(`^--node "${value.replaceAll(/[.[\]/]/g, '\\$&')}" is not valid: ` +
          'write host:port'))
    }
  })
})

describe('formatHostPort', () => {
  it('puts IPv6 hosts in brackets and leaves others alone', () => {
    assert.equal(formatHostPort('::1', 9090), '[::1]:9090')
    assert.equal(formatHostPort('10.0.0.7', 9090), '10.0.0.7:9090')
    assert.equal(formatHostPort('node-a', 9090), 'node-a:9090')
  })
})
