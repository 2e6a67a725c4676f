import assert from 'node:assert/strict'

import {makeCertificates, type TestCertificates} from '../support/certificates.js'
import {RunningCli, runCli} from '../support/cli.js'
import {ConnectProxy} from '../support/connect-proxy.js'
import {freePort} from '../support/free-port.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'
import {echoThrough, randomPayload, sha256} from '../support/transfer.js'

const PROXY_PASSWORD = 'proxy-pw-71c0de'

describe('port-forward through an HTTP proxy', () => {
  let plane: TestControlPlane
  let agent: TestAgent
  let target: Target
  let proxy: ConnectProxy
  let cli: RunningCli | undefined

  before(async () => {
    [plane, agent, target, proxy] = await Promise.all([
      TestControlPlane.start(), TestAgent.start(), startTarget(echo), ConnectProxy.start(),
    ])
    plane.addProject('shop', {node: 'node-a', services: ['db']})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
  })

  beforeEach(() => {
    proxy.clear()
    proxy.refuse = false
    agent.requests.length = 0
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([plane.close(), agent.close(), target.close(), proxy.close()])
  })

  /** Forwards with `env`, checks that bytes go through, and returns what was printed. */
  async function forward(env: NodeJS.ProcessEnv, args: string[] = []): Promise<RunningCli> {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, ...args], env)
    const [port] = await cli.ready()
    const payload = randomPayload(64 * 1024)
    assert.equal(await echoThrough(port, payload), sha256(payload))
    return cli
  }

  const planePort = () => new URL(plane.url).port

  it('sends the control-plane requests and every tunnel through HTTP_PROXY', async () => {
    await forward({CARACTRL_SERVER: plane.url, HTTP_PROXY: proxy.url})
    assert.deepEqual(proxy.seen, [
      `GET http://127.0.0.1:${planePort()}/api/v1/projects/shop`,
      `GET http://127.0.0.1:${planePort()}/api/v1/nodes/node-a`,
      `CONNECT 127.0.0.1:${agent.port}`, // the health check
      `CONNECT 127.0.0.1:${agent.port}`, // the tunnel
    ])
    assert.equal(agent.requests.length, 1)
  })

  it('sends the tunnels of --node through the proxy too', async () => {
    await forward({HTTP_PROXY: proxy.url}, ['--node', `127.0.0.1:${agent.port}`])
    assert.deepEqual(proxy.seen,
      [`CONNECT 127.0.0.1:${agent.port}`, `CONNECT 127.0.0.1:${agent.port}`])
  })

  it('reads http_proxy before HTTP_PROXY', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    await forward({CARACTRL_SERVER: plane.url, HTTP_PROXY: dead, http_proxy: proxy.url})
    assert.equal(proxy.seen.length, 4)
  })

  it('connects directly to what NO_PROXY names, by CIDR range or by address', async () => {
    for (const noProxy of ['10.0.0.0/8, 127.0.0.0/8', `example.com,127.0.0.1`]) {
      await forward({CARACTRL_SERVER: plane.url, HTTP_PROXY: proxy.url, NO_PROXY: noProxy})
      await cli!.kill()
      assert.deepEqual(proxy.seen, [], noProxy)
    }
  })

  it('leaves plain http and ws alone when only HTTPS_PROXY is set', async () => {
    await forward({CARACTRL_SERVER: plane.url, HTTPS_PROXY: proxy.url})
    assert.deepEqual(proxy.seen, [])
  })

  it('sends the proxy\'s credentials to the proxy, and prints them nowhere', async () => {
    const withUser = proxy.url.replace('://', `://bob:${PROXY_PASSWORD}@`)
    const running = await forward({CARACTRL_SERVER: plane.url, DEBUG: '*', HTTP_PROXY: withUser})
    const basic = `Basic ${Buffer.from(`bob:${PROXY_PASSWORD}`).toString('base64')}`
    assert.deepEqual(new Set(proxy.credentials), new Set([basic]))
    assert.match(running.stderr,
      /through the proxy http:\/\/\*\*\*@127\.0\.0\.1:\d+\/ from HTTP_PROXY/)
    assert.ok(!running.stderr.includes(PROXY_PASSWORD), 'stderr shows the proxy password')
    assert.ok(!running.stderr.includes(basic.slice(6)), 'stderr shows the encoded credentials')
    assert.equal(agent.requests[0].headers['proxy-authorization'], undefined)
  })

  it('names the proxy when it cannot be reached', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const result = await runCli(['port-forward', 'shop/db', '5432'],
      {CARACTRL_SERVER: plane.url, HTTP_PROXY: dead})
    assert.equal(result.code, 3)
    assert.match(result.stderr, new RegExp(`^Error: cannot reach the control plane at ` +
      `http://127\\.0\\.0\\.1:\\d+/ \\(through the proxy ${dead}/ from HTTP_PROXY\\): ` +
      '.*(ECONNREFUSED|ERR_SOCKET_CLOSED_BEFORE_CONNECTION)', 'm'))
  })

  it('names the proxy when it refuses the control plane', async () => {
    proxy.refuse = true
    const result = await runCli(['port-forward', 'shop/db', '5432'],
      {CARACTRL_SERVER: plane.url, HTTP_PROXY: proxy.url})
    assert.equal(result.code, 3)
    assert.match(result.stderr,
      new RegExp('^Error: control plane at \\S+ \\(through the proxy \\S+ from HTTP_PROXY\\) ' +
        'refused to show project "shop": ', 'm'))
    assert.match(result.stderr, /: HTTP 403/)
  })

  it('reports a tunnel the proxy refuses as a failed connection', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, '--node',
      `127.0.0.1:${agent.port}`], {HTTP_PROXY: proxy.url})
    proxy.refuse = true
    const [port] = await cli.ready()
    const payload = randomPayload(1024)
    await echoThrough(port, payload).catch(() => {})
    await cli.waitFor(/Connection #1 -> \S+ failed: /)
    assert.equal(agent.requests.length, 0)
  })

  describe('over TLS', () => {
    let certs: TestCertificates
    let secureAgent: TestAgent
    let securePlane: TestControlPlane

    before(async function () {
      const made = await makeCertificates()
      if (typeof made === 'string') {
        console.log(`      skipped: ${made}`)
        this.skip()
      }

      certs = made as TestCertificates
      ;[secureAgent, securePlane] = await Promise.all([
        TestAgent.start({tls: certs.server}), TestControlPlane.start(certs.server),
      ])
      securePlane.addProject('shop', {node: 'node-s', services: ['db']})
      securePlane.addNode('node-s', {agentPort: agent.port, ip: '127.0.0.1'})
    })

    after(async () => {
      await Promise.all([secureAgent?.close(), securePlane?.close(), certs?.remove()])
    })

    it('sends https control-plane requests through HTTPS_PROXY with CONNECT, ' +
      'checking the certificate', async () => {
      await forward(
        {CARACTRL_SERVER: securePlane.url, HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url},
        ['--certificate-authority', certs.caFile],
      )
      const planeAt = `127.0.0.1:${new URL(securePlane.url).port}`
      assert.deepEqual(proxy.seen, [`CONNECT ${planeAt}`, `CONNECT ${planeAt}`,
        `CONNECT 127.0.0.1:${agent.port}`, `CONNECT 127.0.0.1:${agent.port}`])
    })

    it('tunnels wss through HTTPS_PROXY with CONNECT, ' +
      'checking the agent\'s certificate', async () => {
      await forward({HTTPS_PROXY: proxy.url},
        ['--node', `wss://127.0.0.1:${secureAgent.port}`, '--certificate-authority', certs.caFile])
      assert.deepEqual(proxy.seen,
        [`CONNECT 127.0.0.1:${secureAgent.port}`, `CONNECT 127.0.0.1:${secureAgent.port}`])
      assert.equal(secureAgent.requests.length, 1)
    })

    it('refuses an untrusted agent certificate through the proxy as it does directly', async () => {
      const result = await runCli(['port-forward', 'shop/db', '5432', '--node',
        `wss://127.0.0.1:${secureAgent.port}`], {HTTPS_PROXY: proxy.url})
      assert.equal(result.code, 4)
      assert.match(result.stderr, /^Error: cannot verify the certificate of the agent at wss:/m)
    })
  })
})
