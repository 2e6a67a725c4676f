import assert from 'node:assert/strict'
import type {ServerResponse} from 'node:http'

import {makeCertificates} from '../support/certificates.js'
import {RunningCli, runCli} from '../support/cli.js'
import {FixtureHost} from '../support/fixture-host.js'
import {freePort} from '../support/free-port.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {sendProblem, TestControlPlane} from '../support/test-control-plane.js'
import {dial, readAll} from '../support/transfer.js'

const PASSWORD = 'pw-in-url-4e1d7a'
const TOKEN = 'query-token-b93f02'

/** `base` with user info and a token query, as a user might paste a URL they were given. */
function secretUrl(base: string, path = '/'): string {
  const url = new URL(path, base)
  url.username = 'alice'
  url.password = PASSWORD
  url.search = `?token=${TOKEN}&region=eu`
  return url.toString()
}

function assertClean(output: {stdout: string; stderr: string}): void {
  assert.match(output.stderr, /caractrl:port-forward/, 'debug output was on')
  for (const secret of [PASSWORD, TOKEN]) {
    assert.ok(!output.stdout.includes(secret), `stdout shows ${secret}:\n${output.stdout}`)
    assert.ok(!output.stderr.includes(secret), `stderr shows ${secret}:\n${output.stderr}`)
  }
}

describe('port-forward never prints the secrets of a URL', () => {
  let plane: TestControlPlane
  let agent: TestAgent
  let target: Target
  let closed: number
  let cli: RunningCli | undefined
  const held = new Set<ServerResponse>()

  before(async () => {
    [plane, agent, target, closed] = await Promise.all([
      TestControlPlane.start(), TestAgent.start({missing: ['gone']}), startTarget(echo), freePort(),
    ])
    plane.addProject('shop', {node: 'node-a', services: ['db', 'gone']})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
    plane.addProject('lost', {node: 'node-closed', services: ['db']})
    plane.addNode('node-closed', {agentPort: closed, ip: '127.0.0.1'})
  })

  afterEach(async () => {
    plane.override = undefined
    for (const response of held) response.destroy()
    held.clear()
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([plane.close(), agent.close(), target.close()])
  })

  /** Runs to completion, once with the URL in --server and once in CARACTRL_SERVER. */
  async function bothWays(server: string, args: string[], code: number, message: RegExp,
    budget = '10s') {
    const flags = ['--resolve-timeout', budget, '--running-timeout', '0']
    const runs = [
      await runCli(['port-forward', ...args, ...flags, '--server', server], {DEBUG: '*'}),
      await runCli(['port-forward', ...args, ...flags], {CARACTRL_SERVER: server, DEBUG: '*'}),
    ]
    for (const run of runs) {
      assert.equal(run.code, code, run.stderr)
      assert.match(run.stderr, message)
      assertClean(run)
    }
  }

  it('when nothing listens at the control plane\'s address', async () => {
    await bothWays(secretUrl(`http://127.0.0.1:${closed}`), ['shop/db', '5432'], 3,
      /^Error: cannot reach the control plane at http:\/\/\*\*\*@127\.0\.0\.1:\d+\/\?token=/m)
  })

  it('when the control plane refuses the request (401)', async () => {
    plane.override = (_request, response) => {
      sendProblem(response, 401, 'Unauthorized', 'bad credentials')
      return true
    }

    await bothWays(secretUrl(plane.url), ['shop/db', '5432'], 3, /refused to show project "shop"/)
  })

  it('when the project is not found (404)', async () => {
    await bothWays(secretUrl(plane.url), ['nothere/db', '5432'], 4,
      /was not found on the control plane/)
  })

  it('when the control plane fails (500)', async () => {
    plane.override = (_request, response) => {
      sendProblem(response, 500, 'Internal Server Error', 'database is down')
      return true
    }

    await bothWays(secretUrl(plane.url), ['shop/db', '5432'], 3, /failed to show project "shop"/)
  })

  it('when a proxy answers with an HTML page', async () => {
    plane.override = (_request, response) => {
      response.writeHead(200, {'content-type': 'text/html'})
      response.end('<html><body>Sign in</body></html>')
      return true
    }

    await bothWays(secretUrl(plane.url), ['shop/db', '5432'], 3, /with a body that is not JSON/)
  })

  it('when the control plane does not answer in time', async () => {
    plane.override = (_request, response) => {
      held.add(response)
      return true
    }

    await bothWays(secretUrl(plane.url), ['shop/db', '5432'], 3,
      /within the 1\.5s --resolve-timeout/, '1500ms')
  })

  it('when the control plane\'s certificate is not trusted', async function () {
    const certs = await makeCertificates()
    if (typeof certs === 'string') {
      console.log(`      skipped: ${certs}`)
      this.skip()
    }

    const secure = await TestControlPlane.start(certs.server)
    try {
      await bothWays(secretUrl(secure.url), ['shop/db', '5432'], 3, /cannot verify the certificate/)
    } finally {
      await secure.close()
    }
  })

  it('when --node is mistyped with credentials in it', async () => {
    const result = await runCli(['port-forward', 'shop/db', '5432', '--node',
      `ws://alice:${PASSWORD}@127.0.0.1:9090/x?token=${TOKEN}`], {DEBUG: '*'})
    assert.equal(result.code, 2)
    assert.match(result.stderr,
      /--node "ws:\/\/\*\*\*@127\.0\.0\.1:9090\/x\?token=\*\*\*" is not valid/)
    assertClean(result)

    const bare = await runCli(['port-forward', 'shop/db', '5432', '--node',
      `alice:${PASSWORD}@127.0.0.1:9090?token=${TOKEN}`], {DEBUG: '*'})
    assert.equal(bare.code, 2)
    assertClean(bare)
  })

  /** Starts a forward, sends one connection through it, and waits for its failure line. */
  async function failedConnection(args: string[], env: NodeJS.ProcessEnv, bin?: string) {
    cli = new RunningCli(['port-forward', ...args, '--connect-timeout', '1s'],
      {DEBUG: '*', ...env}, bin)
    const [port] = await cli.ready()
    const socket = await dial(port)
    await readAll(socket).catch(() => {})
    await cli.waitFor(/Connection #1 -> \S+ failed: /)
    return cli
  }

  it('when the agent refuses a tunnel', async () => {
    const running = await failedConnection(['shop/gone', `0:${target.port}`],
      {CARACTRL_SERVER: secretUrl(plane.url)})
    assert.match(running.stderr, /failed: agent refused the tunnel: Not Found/)
    assertClean(running)
  })

  it('when the agent cannot be reached', async () => {
    const running = await failedConnection(['lost/db', `0:${target.port}`],
      {CARACTRL_SERVER: secretUrl(plane.url)})
    assert.match(running.stderr, /did not answer \/healthz/)
    assertClean(running)
  })

  describe('in a resolve-agent answer', () => {
    let host: FixtureHost

    before(async () => {
      host = await FixtureHost.create()
    })

    after(async () => {
      await host.remove()
    })

    const env = (url: string) => host.env({
      'root:control-plane': {answer: {url: secretUrl(plane.url)}},
      'root:resolve-agent': {answer: {url}},
    })

    it('when the agent refuses the tunnel', async () => {
      const url = secretUrl(`ws://127.0.0.1:${agent.port}`,
        `/api/v1/forward/shop/gone/${target.port}`)
      const running = await failedConnection(['shop/gone', `0:${target.port}`], env(url), host.bin)
      assert.match(running.stderr, /failed: agent refused the tunnel: Not Found/)
      assertClean(running)
    })

    it('when the agent cannot be reached', async () => {
      const url = secretUrl(`ws://127.0.0.1:${closed}`, `/api/v1/forward/shop/db/${target.port}`)
      const running = await failedConnection(['shop/db', `0:${target.port}`], env(url), host.bin)
      assert.match(running.stderr,
        /failed: cannot open a tunnel through ws:\/\/\*\*\*@127\.0\.0\.1/)
      assertClean(running)
    })
  })
})
