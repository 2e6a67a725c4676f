import assert from 'node:assert/strict'

import {bypassesProxy, parseNoProxy} from '../../src/proxy/no-proxy.js'
import {ProxySettings} from '../../src/proxy/proxy-settings.js'

describe('NO_PROXY', () => {
  const bypasses = (noProxy: string, host: string, port = 443) =>
    bypassesProxy(parseNoProxy(noProxy), host, port)

  it('matches a host name and every name below it, with or without a leading dot', () => {
    for (const entry of ['example.com', '.example.com', '*.example.com']) {
      assert.equal(bypasses(entry, 'api.example.com'), true, entry)
      assert.equal(bypasses(entry, 'a.b.example.com'), true, entry)
      assert.equal(bypasses(entry, 'notexample.com'), false, entry)
    }

    assert.equal(bypasses('example.com', 'EXAMPLE.com.'), true)
  })

  it('matches IP addresses exactly and ranges in CIDR form, in both families', () => {
    assert.equal(bypasses('10.0.0.7', '10.0.0.7'), true)
    assert.equal(bypasses('10.0.0.7', '10.0.0.8'), false)
    assert.equal(bypasses('10.0.0.0/8', '10.200.3.4'), true)
    assert.equal(bypasses('10.0.0.0/8', '11.0.0.1'), false)
    assert.equal(bypasses('::1', '::1'), true)
    assert.equal(bypasses('[::1]', '0:0:0:0:0:0:0:1'), true)
    assert.equal(bypasses('fd00::/8', 'fd12::7'), true)
    assert.equal(bypasses('fd00::/8', 'fe80::1'), false)
    assert.equal(bypasses('10.0.0.0/8', 'ten.example'), false, 'a range never matches a name')
  })

  it('limits an entry with a port to that port', () => {
    assert.equal(bypasses('example.com:8080', 'example.com', 8080), true)
    assert.equal(bypasses('example.com:8080', 'example.com', 443), false)
    assert.equal(bypasses('[fd00::7]:9090', 'fd00::7', 9090), true)
    assert.equal(bypasses('10.0.0.7:9090', '10.0.0.7', 9091), false)
  })

  it('reads entries separated by commas or spaces, and * for everything', () => {
    assert.equal(bypasses('a.test, b.test  c.test', 'c.test'), true)
    assert.equal(bypasses('*', 'anything.example'), true)
    assert.equal(bypasses('', 'anything.example'), false)
    assert.equal(bypasses('10.0.0.0/99, ,', '10.0.0.1'), false, 'a broken entry matches nothing')
  })
})

describe('proxy settings from the environment', () => {
  it('choose the proxy by scheme: HTTP_PROXY for http and ws, ' +
    'HTTPS_PROXY for https and wss', async () => {
    const settings = await ProxySettings.fromEnv({
      HTTP_PROXY: 'http://plain.proxy:3128', HTTPS_PROXY: 'http://secure.proxy:3128',
    })
    assert.equal(settings.choose('http://cp.example/')?.url.host, 'plain.proxy:3128')
    assert.equal(settings.choose('ws://10.0.0.7:9090/x')?.url.host, 'plain.proxy:3128')
    assert.equal(settings.choose('https://cp.example/')?.url.host, 'secure.proxy:3128')
    assert.equal(settings.choose('wss://10.0.0.7:9090/x')?.url.host, 'secure.proxy:3128')
  })

  it('read the lowercase spelling first', async () => {
    const settings = await ProxySettings.fromEnv({
      HTTPS_PROXY: 'http://upper:1', NO_PROXY: '',
      https_proxy: 'http://lower:2', no_proxy: 'cp.example',
    })
    assert.deepEqual(
      [settings.choose('https://other.example/')?.source, settings.choose('https://cp.example/')],
      ['https_proxy', undefined],
    )
  })

  it('take a bare host:port for an HTTP proxy, and refuse anything else', async () => {
    const settings = await ProxySettings.fromEnv({HTTP_PROXY: 'proxy.internal:3128'})
    assert.equal(settings.choose('http://cp.example/')?.url.href, 'http://proxy.internal:3128/')

    const broken = await ProxySettings.fromEnv({HTTP_PROXY: 'socks5://proxy.internal:1080'})
    assert.throws(() => broken.choose('http://cp.example/'),
      /HTTP_PROXY "socks5:\/\/proxy\.internal:1080" is not an http:\/\/ or https:\/\/ proxy URL/)
  })

  it('go direct with no proxy variable at all', async () => {
    const settings = await ProxySettings.fromEnv({})
    assert.equal(settings.agentFor('https://cp.example/', {tunnel: false}), undefined)
  })
})
