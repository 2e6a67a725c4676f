import assert from 'node:assert/strict'
import {createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'

import {RunningCli, runCli} from '../support/cli.js'
import {FixtureHost} from '../support/fixture-host.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {sendProblem, TestControlPlane} from '../support/test-control-plane.js'
import {dial, readAll} from '../support/transfer.js'

const TOKEN = 'sekret-token-93ab71'
const TICKET = 'proxy-ticket-c0ffee'

/** A TCP server that accepts and then says nothing: an agent that hangs in the handshake. */
async function silentServer(): Promise<{server: Server; port: number; sockets: Set<Socket>}> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve)
  })
  return {port: (server.address() as AddressInfo).port, server, sockets}
}

describe('port-forward keeps credentials out of its output', () => {
  let host: FixtureHost
  let plane: TestControlPlane
  let agent: TestAgent
  let silent: Awaited<ReturnType<typeof silentServer>>
  let target: Target
  let cli: RunningCli | undefined

  before(async () => {
    host = await FixtureHost.create()
    plane = await TestControlPlane.start()
    agent = await TestAgent.start({missing: ['gone']})
    silent = await silentServer()
    target = await startTarget(echo)
    plane.token = TOKEN
    plane.addProject('shop', {node: 'node-a', services: ['db', 'gone', 'hung']})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
    plane.addProject('hang', {node: 'node-silent', services: ['db']})
    plane.addNode('node-silent', {agentPort: silent.port, ip: '127.0.0.1'})
  })

  afterEach(async () => {
    plane.override = undefined
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    for (const socket of silent.sockets) socket.destroy()
    silent.server.close()
    await Promise.all([host.remove(), plane.close(), agent.close(), target.close()])
  })

  /** The host answers with the token; the environment has it too, and DEBUG shows everything. */
  const env = (extra: Record<string, unknown> = {}) => ({
    ...host.env({'root:control-plane': {answer: {token: TOKEN, url: plane.url}}, ...extra}),
    CARACTRL_TOKEN: TOKEN,
    DEBUG: '*',
  })

  function assertClean(output: {stdout: string; stderr: string}, ...secrets: string[]): void {
    assert.match(output.stderr, /caractrl:port-forward/, 'debug output was on')
    for (const secret of [TOKEN, ...secrets]) {
      assert.ok(!output.stdout.includes(secret), `stdout shows ${secret}`)
      assert.ok(!output.stderr.includes(secret), `stderr shows ${secret}`)
    }
  }

  async function run(args: string[], extraEnv: NodeJS.ProcessEnv = env()) {
    return runCli(['port-forward', ...args, '--request-timeout', '500ms', '--running-timeout', '0'],
      extraEnv, host.bin)
  }

  it('when the control plane refuses the token (401)', async () => {
    plane.override = (request, response) => {
      sendProblem(response, 401, 'Unauthorized', 'token expired')
      return true
    }

    const result = await run(['shop/db', '5432'])
    assert.equal(result.code, 3)
    assert.match(result.stderr, /refused to show project "shop": Unauthorized: token expired/)
    assertClean(result)
  })

  it('when the project is not found (404)', async () => {
    const result = await run(['nothere/db', '5432'])
    assert.equal(result.code, 4)
    assertClean(result)
  })

  it('when the control plane fails (500)', async () => {
    plane.override = (request, response) => {
      sendProblem(response, 500, 'Internal Server Error', 'database is down')
      return true
    }

    const result = await run(['shop/db', '5432'])
    assert.equal(result.code, 3)
    assertClean(result)
  })

  it('when the control plane does not answer in time', async () => {
    plane.override = () => true
    const result = await run(['shop/db', '5432'])
    assert.equal(result.code, 3)
    assert.match(result.stderr, /did not answer GET/)
    assertClean(result)
  })

  it('when the token sits in the control-plane URL', async () => {
    const url = plane.url.replace('://', `://user:${TOKEN}@`)
    const result = await run(['nothere/db', '5432'],
      {...host.env({'root:control-plane': {answer: {url}}}), DEBUG: '*'})
    assert.ok(result.code! > 0)
    assertClean(result)
  })

  async function failedConnection(
    args: string[], extraEnv: NodeJS.ProcessEnv,
  ): Promise<RunningCli> {
    cli = new RunningCli(['port-forward', ...args, '--connect-timeout', '500ms'],
      extraEnv, host.bin)
    const [port] = await cli.ready()
    const socket = await dial(port)
    await readAll(socket).catch(() => {})
    await cli.waitFor(/Connection #1 -> \S+ failed: /)
    return cli
  }

  it('when the agent has no container (404) for a connection', async () => {
    const running = await failedConnection(['shop/gone', `0:${target.port}`], env())
    assert.match(running.stderr, /failed: agent refused the tunnel: Not Found/)
    assertClean(running)
  })

  it('when the agent does not answer a tunnel in time', async () => {
    const running = await failedConnection(['hang/db', `0:${target.port}`], env())
    assert.match(running.stderr, /failed: cannot open a tunnel through .*: no answer within 0\.5s/)
    assertClean(running)
  })

  it('when a tunnel with the resolve-agent answer\'s headers is refused', async () => {
    const url = `ws://127.0.0.1:${agent.port}/api/v1/forward/shop/gone/${target.port}`
    const running = await failedConnection(['shop/gone', `0:${target.port}`],
      env({'root:resolve-agent': {answer: {headers: {'x-ticket': TICKET}, url}}}))
    assert.equal(agent.requests.at(-1)!.headers['x-ticket'], TICKET)
    assertClean(running, TICKET)
  })
})
