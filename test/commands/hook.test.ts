import assert from 'node:assert/strict'
import {createServer, type AddressInfo, type Server} from 'node:net'

import {errorLine, runPortForward} from '../support/run-command.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'

const HOOK_TOKEN = 'tok-hook-7f3a9c'
const ENV_TOKEN = 'tok-env-21d0be'
const EVENT = 'caractrl:control-plane'
// Hook files as a host CLI lists them in package.json, relative to the plugin's folder.
const FIXTURES = './test/fixtures/hooks'
const ANSWER = {[EVENT]: `${FIXTURES}/answer-control-plane.ts`}

/** Holds a local port, so that a forward whose agent was resolved then stops at binding. */
async function holdPort(): Promise<Server> {
  const server = createServer()
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return server
}

describe('the caractrl:control-plane hook', () => {
  let plane: TestControlPlane
  let decoy: TestControlPlane
  let held: Server
  let agent: TestAgent
  let ports: string[]

  before(async () => {
    [plane, decoy, held, agent] = await Promise.all([
      TestControlPlane.start(), TestControlPlane.start(), holdPort(), TestAgent.start(),
    ])
    plane.addProject('shop', {node: 'node-a', services: ['db']})
    // A live agent, so that the reachability check stays quiet.
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
    // Resolution succeeding is shown by the run getting as far as binding the local port.
    ports = ['shop/db', `${(held.address() as AddressInfo).port}:5432`]
  })

  beforeEach(() => {
    plane.token = HOOK_TOKEN
    plane.calls.length = 0
    decoy.calls.length = 0
  })

  after(async () => {
    held.close()
    await Promise.all([plane.close(), decoy.close(), agent.close()])
  })

  /** Asserts the run resolved the agent through `plane` with `token`, then failed to bind. */
  function assertResolvedThrough(
    run: {exit: number; stderr: string; stdout: string}, token: string,
  ): void {
    assert.match(errorLine(run), /^Error: cannot listen on 127\.0\.0\.1:\d+: /)
    assert.equal(run.exit, 5)
    assert.deepEqual(plane.calls.map((call) => [call.url, call.headers.authorization]), [
      ['/api/v1/projects/shop', `Bearer ${token}`],
      ['/api/v1/nodes/node-a', `Bearer ${token}`],
    ])
    assert.deepEqual(decoy.calls, [])
  }

  it('uses the URL and token the host\'s handler answers, over the environment', async () => {
    const run = await runPortForward(ports, {
      env: {
        CARACTRL_SERVER: decoy.url,
        CARACTRL_TOKEN: ENV_TOKEN,
        FIXTURE_CONTROL_PLANE_TOKEN: HOOK_TOKEN,
        FIXTURE_CONTROL_PLANE_URL: plane.url,
      },
      hooks: ANSWER,
    })
    assertResolvedThrough(run, HOOK_TOKEN)
  })

  it('uses CARACTRL_SERVER and CARACTRL_TOKEN when no handler answers', async () => {
    plane.token = ENV_TOKEN
    const run = await runPortForward(ports,
      {env: {CARACTRL_SERVER: plane.url, CARACTRL_TOKEN: ENV_TOKEN}})
    assertResolvedThrough(run, ENV_TOKEN)
  })

  it('lets --server override the handler\'s URL and CARACTRL_SERVER', async () => {
    const run = await runPortForward([...ports, '--server', plane.url], {
      env: {
        CARACTRL_SERVER: decoy.url,
        FIXTURE_CONTROL_PLANE_TOKEN: HOOK_TOKEN,
        FIXTURE_CONTROL_PLANE_URL: decoy.url,
      },
      hooks: ANSWER,
    })
    assertResolvedThrough(run, HOOK_TOKEN)
  })

  it('is refused by a control plane that expects another token, ' +
    'without showing either', async () => {
    const run = await runPortForward(ports, {
      env: {FIXTURE_CONTROL_PLANE_TOKEN: 'tok-wrong-0000', FIXTURE_CONTROL_PLANE_URL: plane.url},
      hooks: ANSWER,
    })
    const line = errorLine(run)
    assert.match(line,
      /^Error: control plane at http:\/\/127\.0\.0\.1:\d+\/ refused to show project "shop": /)
    assert.match(line, /log in again/)
    assert.equal(run.exit, 3)
    assert.doesNotMatch(run.stderr + run.stdout, /tok-/)
  })

  it('keeps the handler\'s token out of the output, also with DEBUG=*', async () => {
    const env = {FIXTURE_CONTROL_PLANE_TOKEN: HOOK_TOKEN, FIXTURE_CONTROL_PLANE_URL: plane.url}
    const runs = [
      await runPortForward(ports, {debug: '*', env, hooks: ANSWER}),
      await runPortForward(ports, {
        debug: '*', env: {...env, FIXTURE_CONTROL_PLANE_TOKEN: 'tok-wrong-0000'}, hooks: ANSWER,
      }),
    ]

    assert.deepEqual(runs.map((run) => run.exit), [5, 3])
    for (const run of runs) {
      assert.match(run.stderr, /caractrl:port-forward:control-plane GET /, 'debug output was on')
      assert.doesNotMatch(run.stderr + run.stdout, /tok-/)
    }
  })

  it('stops the command with the message of a handler that throws, and exit 3', async () => {
    const run = await runPortForward(ports, {
      env: {CARACTRL_SERVER: plane.url},
      hooks: {[EVENT]: `${FIXTURES}/fail-control-plane.ts`},
    })
    assert.equal(errorLine(run), 'Error: not logged in: run caractrl login first ' +
      '(from the caractrl:control-plane hook of @caractrl/plugin-port-forward)')
    assert.equal(run.exit, 3)
    assert.deepEqual(plane.calls, [], 'a failed handler is not replaced by CARACTRL_SERVER')
  })

  it('stops with exit 3 too when the handler fails with this.error ' +
    'and an exit code of its own', async () => {
    const run = await runPortForward(ports,
      {hooks: {[EVENT]: `${FIXTURES}/exit-control-plane.ts`}})
    assert.match(errorLine(run),
      /^Error: session expired: run caractrl login again \(from the caractrl:control-plane/)
    assert.equal(run.exit, 3)
  })

  it('refuses an answer without a url, naming the plugin that gave it', async () => {
    const run = await runPortForward(ports,
      {hooks: {[EVENT]: `${FIXTURES}/unusable-control-plane.ts`}})
    assert.match(errorLine(run), new RegExp('^Error: the caractrl:control-plane hook of ' +
      '@caractrl\\/plugin-port-forward answered without a url: '))
    assert.equal(run.exit, 3)
    assert.doesNotMatch(run.stderr, /tok-/)
  })

  it('is not consulted when --node names the agent', async () => {
    const run = await runPortForward([...ports, '--node', agent.address], {
      hooks: {[EVENT]: `${FIXTURES}/fail-control-plane.ts`},
    })
    assert.match(errorLine(run), /^Error: cannot listen on 127\.0\.0\.1:\d+: /)
    assert.equal(run.exit, 5)
  })
})
