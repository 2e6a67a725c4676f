import assert from 'node:assert/strict'

import {RunningCli, runCli} from '../support/cli.js'
import {FixtureHost} from '../support/fixture-host.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'
import {echoThrough, randomPayload, sha256} from '../support/transfer.js'

const TOKEN = 'host-login-token-5f2c'
const NOWHERE = 'http://127.0.0.1:9'

describe('port-forward asks the host CLI through hooks', () => {
  let host: FixtureHost
  let plane: TestControlPlane
  let agent: TestAgent
  let proxyAgent: TestAgent
  let target: Target
  let cli: RunningCli | undefined

  before(async () => {
    host = await FixtureHost.create()
    plane = await TestControlPlane.start()
    agent = await TestAgent.start()
    proxyAgent = await TestAgent.start()
    target = await startTarget(echo)
    plane.token = TOKEN
    plane.addProject('shop', {node: 'node-a'})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
  })

  beforeEach(async () => {
    plane.calls.length = 0
    agent.requests.length = 0
    proxyAgent.requests.length = 0
    await host.clearCalls()
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([
      host.remove(), plane.close(), agent.close(), proxyAgent.close(), target.close(),
    ])
  })

  async function forward(args: string[], env: NodeJS.ProcessEnv): Promise<RunningCli> {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, ...args], env, host.bin)
    const [port] = await cli.ready()
    const payload = randomPayload(32 * 1024)
    assert.equal(await echoThrough(port, payload), sha256(payload))
    return cli
  }

  it('uses the URL and token the host answers, ' +
    'and sends the token to the control plane only', async () => {
    await forward([], host.env({'root:control-plane': {answer: {token: TOKEN, url: plane.url}}}))
    assert.ok(plane.calls.length >= 2)
    for (const call of plane.calls) assert.equal(call.headers.authorization, `Bearer ${TOKEN}`)
    assert.equal(agent.requests.length, 1)
    assert.equal(agent.requests[0].headers.authorization, undefined)
    assert.doesNotMatch(JSON.stringify(agent.requests[0].headers), new RegExp(TOKEN))
  })

  it('prefers the host\'s own answer, even when slower, ' +
    'and warns that another plugin disagrees', async () => {
    const running = await forward([], host.env({
      'other:control-plane': {answer: {token: 'other-token', url: NOWHERE}},
      'root:control-plane': {answer: {token: TOKEN, url: plane.url}, delayMs: 400},
    }))
    assert.match(running.stderr,
      new RegExp('^Warning: plugins caractrl-fixture-host and caractrl-plugin-other both answer ' +
        'caractrl:control-plane with different settings; using caractrl-fixture-host\'s$', 'm'))
    const started = (await host.calls()).map((call) => call.owner)
    assert.deepEqual(started.sort(), ['other', 'root'])
  })

  it('stops with the message of a handler that fails, and a non-zero exit', async () => {
    const result = await runCli(['port-forward', 'shop/db', '5432'], host.env({
      'root:control-plane': {fail: 'not logged in: run caractrl login'},
    }), host.bin)
    assert.equal(result.code, 3)
    assert.equal(result.stderr,
      'Error: not logged in: run caractrl login ' +
      '(from the caractrl:control-plane hook of caractrl-fixture-host)\n')
    assert.equal(plane.calls.length, 0)
  })

  it('takes --server over the hook\'s URL, keeping the hook\'s token', async () => {
    await forward(['--server', plane.url],
      host.env({'root:control-plane': {answer: {token: TOKEN, url: NOWHERE}}}))
    assert.equal(plane.calls[0].headers.authorization, `Bearer ${TOKEN}`)
  })

  it('takes the hook\'s URL over CARACTRL_SERVER, ' +
    'and CARACTRL_TOKEN when the hook has no token', async () => {
    await forward([], {
      ...host.env({'root:control-plane': {answer: {url: plane.url}}}),
      CARACTRL_SERVER: NOWHERE,
      CARACTRL_TOKEN: TOKEN,
    })
    assert.equal(plane.calls[0].headers.authorization, `Bearer ${TOKEN}`)
  })

  it('sends tunnels where a resolve-agent answer says, ' +
    'with its headers, without asking for the node', async () => {
    const url = `ws://127.0.0.1:${proxyAgent.port}/api/v1/forward/shop/db/${target.port}`
    await forward([], host.env({
      'root:control-plane': {answer: {token: TOKEN, url: plane.url}},
      'root:resolve-agent': {answer: {headers: {'x-tunnel-ticket': 'ticket-1'}, url}},
    }))

    assert.equal(proxyAgent.requests.length, 1)
    assert.equal(proxyAgent.requests[0].headers['x-tunnel-ticket'], 'ticket-1')
    assert.equal(proxyAgent.requests[0].headers.authorization, undefined)
    assert.equal(agent.requests.length, 0)
    assert.deepEqual(plane.calls.filter((call) => call.url.startsWith('/api/v1/nodes/')), [])

    const [call] = (await host.calls()).filter((entry) => entry.event === 'resolve-agent')
    assert.deepEqual(
      {...call.options, controlPlane: undefined},
      {controlPlane: undefined, port: target.port, project: 'shop', service: 'db'},
    )
    assert.equal((call.options.controlPlane as {url: string}).url, `${plane.url}/`)
  })

  it('refuses a resolve-agent answer that is not a WebSocket URL, naming the plugin', async () => {
    const result = await runCli(['port-forward', 'shop/db', '5432'], host.env({
      'other:resolve-agent': {answer: {url: 'http://proxy.example/tunnel'}},
      'root:control-plane': {answer: {token: TOKEN, url: plane.url}},
    }), host.bin)
    assert.equal(result.code, 3)
    assert.match(result.stderr,
      new RegExp('^Error: the caractrl:resolve-agent hook of caractrl-plugin-other ' +
        'answered with a url that is not ws:\\/\\/ or wss:\\/\\/', 'm'))
  })

  it('stops when a handler outlasts what is left of --resolve-timeout, ' +
    'naming the plugin', async () => {
    const started = Date.now()
    const result = await runCli(['port-forward', 'shop/db', '5432', '--resolve-timeout', '1s'],
      host.env({'root:control-plane': {answer: {token: TOKEN, url: plane.url}, delayMs: 8000}}),
      host.bin)
    assert.equal(result.code, 3)
    assert.equal(result.stderr, 'Error: the caractrl:control-plane hook of caractrl-fixture-host ' +
      'did not answer within 1s, what was left of the 1s --resolve-timeout: check that plugin, ' +
      'or pass --server or --node\n')
    assert.equal(plane.calls.length, 0, 'a slow handler is not replaced by the defaults')
    assert.ok(Date.now() - started < 6000, 'it did not wait for the handler')
  })

  it('stops when a resolve-agent handler times out, too', async () => {
    const result = await runCli(['port-forward', 'shop/db', '5432', '--resolve-timeout', '1500ms'],
      host.env({
        'other:resolve-agent': {answer: {url: 'ws://127.0.0.1:9/x'}, delayMs: 5000},
        'root:control-plane': {answer: {token: TOKEN, url: plane.url}},
      }), host.bin)
    assert.equal(result.code, 3)
    assert.match(result.stderr,
      new RegExp('^Error: the caractrl:resolve-agent hook of caractrl-plugin-other ' +
        'did not answer within [\\d.]+s, ', 'm'))
    assert.equal(plane.calls.length, 0)
  })

  it('stops with the message of a resolve-agent handler that fails', async () => {
    const result = await runCli(['port-forward', 'shop/db', '5432'], host.env({
      'other:resolve-agent': {fail: 'tunnel broker is down'},
      'root:control-plane': {answer: {token: TOKEN, url: plane.url}},
    }), host.bin)
    assert.equal(result.code, 3)
    assert.equal(result.stderr,
      'Error: tunnel broker is down ' +
      '(from the caractrl:resolve-agent hook of caractrl-plugin-other)\n')
    assert.equal(plane.calls.length, 0)
  })

  const malformed: Array<[string, string, unknown, RegExp]> = [
    ['a bare string', 'control-plane', 'http://127.0.0.1:9', /answered without a url/],
    ['a url that is a number', 'control-plane', {url: 8080}, /answered without a url/],
    ['a token that is not a string', 'control-plane', {token: 42, url: NOWHERE},
      /answered a token that is not a string/],
    ['headers that are not strings', 'control-plane', {headers: {'x-a': 1}, url: NOWHERE},
      /answered headers that are not strings/],
    ['a ca without a certificate', 'control-plane', {ca: 'not a pem', url: NOWHERE},
      /answered a ca without a PEM certificate/],
    ['a resolve-agent answer without a url', 'resolve-agent', {headers: {}},
      /answered without a url/],
    ['resolve-agent headers that are not strings', 'resolve-agent',
      {headers: {'x-a': ['b']}, url: 'ws://127.0.0.1:9/x'},
      /answered headers that are not strings/],
  ]
  for (const [what, event, answer, message] of malformed) {
    it(`stops on ${what}, naming the plugin and the event`, async () => {
      const handlers = event === 'control-plane' ?
        {'other:control-plane': {answer}} :
        {
          'other:resolve-agent': {answer},
          'root:control-plane': {answer: {token: TOKEN, url: plane.url}},
        }
      const result = await runCli(['port-forward', 'shop/db', '5432'], host.env(handlers), host.bin)
      assert.equal(result.code, 3)
      const lines = result.stderr.split('\n').filter(Boolean)
      assert.equal(lines.length, 1, result.stderr)
      assert.match(lines[0],
        new RegExp(`^Error: the caractrl:${event} hook of caractrl-plugin-other `))
      assert.match(lines[0], message)
      assert.equal(plane.calls.length, 0)
    })
  }
})
