import assert from 'node:assert/strict'
import {createServer, type AddressInfo} from 'node:net'

import {RunningCli, runCli} from '../support/cli.js'
import {errorLine, runPortForward} from '../support/run-command.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {sendProblem, TestControlPlane} from '../support/test-control-plane.js'
import {dial, echoThrough, randomPayload, sha256} from '../support/transfer.js'

const TOKEN = 'tok-errors-4b9d2e'

/** A port on 127.0.0.1 that nothing listens on, as far as anyone can know. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
  })
  return port
}

describe('port-forward refuses a wrong command line with one line and exit 2', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a target without "/"', ['shop', '80'],
      /^Error: target "shop" has no "\/": write it as <project>\/<service>/],
    ['an empty project', ['/db', '80'], /^Error: target "\/db" has an empty project/],
    ['an empty service', ['shop/', '80'], /^Error: target "shop\/" has an empty service/],
    ['an upper-case project', ['Shop/db', '80'],
      /^Error: project name "Shop" is not valid: use lowercase/],
    ['a service with "_"', ['shop/db_1', '80'], /^Error: service name "db_1" is not valid/],
    ['a port that is not a number', ['shop/db', 'abc'],
      /^Error: remote port "abc" is not valid: use a whole number/],
    ['a port above 65535', ['shop/db', '70000'], /^Error: remote port "70000" is not valid/],
    ['0 as the remote port', ['shop/db', '0'],
      /^Error: remote port "0" is not valid: use a whole number in 1\.\.65535$/],
    ['three bare numbers', ['shop/db', '1', '2', '3'],
      /^Error: ports "1 2 3" are ambiguous: .*LOCAL:REMOTE/],
    ['a port word with two colons', ['shop/db', '0:80:1'],
      /^Error: port "0:80:1" is not valid: write REMOTE, LOCAL:REMOTE/],
    ['no port', ['shop/db'], /^Error: no port given: add the remote port/],
    ['no target', [],
      /^Error: missing target: run caractrl port-forward <project>\/<service> REMOTE_PORT$/],
    ['an unknown flag', ['shop/db', '80', '--bogus'],
      /^Error: Nonexistent flag: --bogus; see caractrl port-forward --help$/],
    ['a flag without its value', ['shop/db', '80', '--node'],
      /^Error: Flag --node expects a value; see caractrl/],
    ['a --node without a port', ['shop/db', '80', '--node', '10.0.0.7'],
      /^Error: --node "10\.0\.0\.7" is not valid: write host:port/],
    ['a --node with an http URL', ['shop/db', '80', '--node', 'http://h:1'],
      /^Error: --node "http:\/\/h:1" is not valid/],
    ['a --node with a bad IPv6', ['shop/db', '80', '--node', '[zz]:1'],
      /^Error: --node "\[zz\]:1" is not valid/],
    ['a --server that is not http', ['shop/db', '80', '--server', 'ftp://cp'],
      /^Error: control-plane URL "ftp:\/\/cp" from --server is not/],
    ['a duration that is not one', ['shop/db', '80', '--connect-timeout', 'soon'],
      /^Error: --connect-timeout "soon" is not a duration/],
    ['--quiet with --verbose', ['shop/db', '80', '-q', '-v'],
      /^Error: --quiet=true cannot also be provided when using --verbose; .*see caractrl/],
  ]
  for (const [what, args, message] of cases) {
    it(`for ${what}`, async () => {
      const run = await runPortForward(args)
      assert.match(errorLine(run), message)
      assert.equal(run.exit, 2)
    })
  }

  for (const node of [
    '10.0.0.7:9090', '[::1]:9090', 'ws://10.0.0.7:9090', 'wss://agent.example:443',
  ]) {
    it(`accepts --node ${node} and goes on to the next check`, async () => {
      const run = await runPortForward(['shop/db', '80', '--node', node,
        '--connect-timeout', 'soon'])
      assert.match(errorLine(run), /^Error: --connect-timeout "soon" is not a duration/)
      assert.equal(run.exit, 2)
    })
  }
})

describe('port-forward explains why the control plane cannot place the target', () => {
  let plane: TestControlPlane

  before(async () => {
    plane = await TestControlPlane.start()
    plane.addNode('node-a', {agentPort: 9191, ip: '127.0.0.1'})
    plane.addNode('node-b', {agentPort: 9191})
    for (const phase of ['Pending', 'Scheduled', 'Failed', 'Terminating']) {
      plane.addProject(phase.toLowerCase(), {phase})
    }

    plane.addProject('unplaced', {node: ''})
    plane.addProject('orphan', {node: 'node-gone'})
    plane.addProject('hidden', {node: 'node-b'})
    plane.addProject('shop', {services: ['db', 'cache']})
  })

  afterEach(() => {
    plane.override = undefined
    plane.token = undefined
  })

  after(async () => {
    await plane.close()
  })

  const cases: Array<[string, string, RegExp]> = [
    ['a Pending project', 'pending/db',
      /^Error: project "pending" is Pending, not Running: .*--node host:port$/],
    ['a Scheduled project', 'scheduled/db',
      /^Error: project "scheduled" is Scheduled, not Running: .*--node host:port$/],
    ['a Failed project', 'failed/db',
      /^Error: project "failed" has Failed: inspect and redeploy it/],
    ['a Terminating project', 'terminating/db',
      /^Error: project "terminating" is Terminating: deploy it again/],
    ['a missing project', 'missing/db',
      new RegExp('^Error: project "missing" was not found on .* ' +
        '\\(Not Found: project not found: missing\\): check the name')],
    ['a Running project without a node', 'unplaced/db',
      /^Error: project "unplaced" is Running but names no node/],
    ['a missing node', 'orphan/db',
      /^Error: node "node-gone" of project "orphan" was not found .*--node host:port$/],
    ['a node without an address', 'hidden/db',
      new RegExp('^Error: node "node-b" reports no address ' +
        '\\(status\\.network\\.ip is missing\\): .*--node host:port$')],
    ['an unknown service', 'shop/web',
      /^Error: project "shop" has no service "web"; it has: db, cache$/],
  ]
  for (const [what, target, message] of cases) {
    it(`with exit 4 for ${what}`, async () => {
      // Without waiting, a project that is not Running fails at once with its phase.
      const run = await runPortForward([target, '5432', '--server', plane.url,
        '--running-timeout', '0'])
      assert.match(errorLine(run), message)
      assert.equal(run.exit, 4)
    })
  }

  it('with exit 3 when nothing listens at the control plane\'s address, hiding its credentials',
    async () => {
      const port = await closedPort()
      const run = await runPortForward(['shop/db', '5432'],
        {env: {CARACTRL_SERVER: `http://me:pw-9f1c@127.0.0.1:${port}/?token=tok-query`}})
      const line = errorLine(run)
      // got 14 on Node.js 24.20 and later reports a refused connection under another code.
      assert.match(line, new RegExp('^Error: cannot reach the control plane at ' +
        `http://\\*\\*\\*@127\\.0\\.0\\.1:${port}/\\?token=\\*\\*\\*: ` +
        '.*(ECONNREFUSED|ERR_SOCKET_CLOSED_BEFORE_CONNECTION).*; check --server'))
      assert.doesNotMatch(line, /pw-9f1c|tok-query/)
      assert.equal(run.exit, 3)
    })

  it('with exit 3 and the HTTP status when a proxy answers with an HTML page', async () => {
    plane.override = (_request, response) => {
      response.writeHead(403, {'content-type': 'text/html'})
      response.end('<!DOCTYPE html>\n<html><body>\n<h1>Access denied</h1>\n' +
        '<p>by policy</p></body></html>')
      return true
    }

    const run = await runPortForward(['shop/db', '5432', '--server', plane.url])
    const line = errorLine(run)
    assert.match(line,
      /^Error: control plane at .* refused to show project "shop": HTTP 403 Forbidden /)
    assert.match(line, /"Access denied by policy"/)
    assert.doesNotMatch(line, /[<>]/)
    assert.equal(run.exit, 3)
  })

  it('with exit 3 and advice to check --server when a 404 is not the control plane\'s own',
    async () => {
      plane.override = (_request, response) => {
        response.writeHead(404, {'content-type': 'text/html'})
        response.end('<html><body><h1>File not found</h1></body></html>')
        return true
      }

      const run = await runPortForward(['shop/db', '5432', '--server', plane.url])
      const line = errorLine(run)
      assert.match(line, new RegExp('^Error: \\S+ answered GET /api/v1/projects/shop with ' +
        'HTTP 404 Not Found .*"File not found".*, not as a control plane does: check --server'))
      assert.equal(run.exit, 3)
    })

  it('with exit 3 when a 200 answer is not JSON', async () => {
    plane.override = (_request, response) => {
      response.writeHead(200, {'content-type': 'text/plain'})
      response.end('hello')
      return true
    }

    const run = await runPortForward(['shop/db', '5432', '--server', plane.url])
    assert.match(errorLine(run),
      new RegExp('^Error: control plane at .* answered GET \\/api\\/v1\\/projects\\/shop ' +
        'with a body that is not JSON'))
    assert.equal(run.exit, 3)
  })

  it('with exit 3 and advice to log in again when the token is refused, ' +
    'never showing it', async () => {
    plane.token = 'tok-current'
    const run = await runCli(['port-forward', 'shop/db', '5432'],
      {CARACTRL_SERVER: plane.url, CARACTRL_TOKEN: TOKEN, DEBUG: '*'})
    // Debug output comes with a stack on purpose; the message is still one line of its own.
    const lines = run.stderr.split('\n').filter((line) => line.startsWith('Error: '))
    assert.equal(lines.length, 1, run.stderr)
    assert.match(lines[0],
      /^Error: control plane at .* refused to show project "shop": Unauthorized: .*; log in again/)
    assert.equal(run.code, 3)
    assert.match(run.stderr, /caractrl:port-forward:control-plane GET /, 'debug output was on')
    assert.ok(!run.stderr.includes(TOKEN) && !run.stdout.includes(TOKEN), 'the token was printed')
  })
})

describe('port-forward gets past faults that do not stop it', () => {
  let plane: TestControlPlane
  let agent: TestAgent
  let target: Target
  let cli: RunningCli | undefined

  before(async () => {
    [plane, agent, target] =
      await Promise.all([TestControlPlane.start(), TestAgent.start(), startTarget(echo)])
    plane.addProject('shop', {node: 'node-a', services: ['db']})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
    plane.addProject('bare', {node: 'node-b', services: ['db']})
    plane.addNode('node-b', {ip: '127.0.0.1'})
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
    plane.override = undefined
  })

  after(async () => {
    await Promise.all([plane.close(), agent.close(), target.close()])
  })

  it('retries a control plane that answered 500 once, then forwards', async () => {
    let failures = 1
    plane.override = (_request, response) => {
      if (failures-- <= 0) return false
      sendProblem(response, 500, 'Internal Server Error', 'store is restarting')
      return true
    }

    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`],
      {CARACTRL_SERVER: plane.url})
    const [port] = await cli.ready()
    const payload = randomPayload(64 * 1024)
    assert.equal(await echoThrough(port, payload), sha256(payload))
    assert.equal(plane.callsTo('/api/v1/projects/shop').length, 2)
    assert.doesNotMatch(cli.stderr, /Error/)
  })

  it('warns when the node reports no agent port and tries the agent at port 9090', async () => {
    cli = new RunningCli(['port-forward', 'bare/db', '0:5432'],
      {CARACTRL_SERVER: plane.url, DEBUG: 'caractrl:port-forward*'})
    await cli.waitFor(/^Warning: node "node-b" reports no agent port .*trying the default 9090/m)
    await cli.waitFor(/agent of bare\/db is 127\.0\.0\.1:9090 on node node-b/)
    const [port] = await cli.ready()

    // Whatever answers at 9090 on this machine, the tunnel is dialled there.
    const socket = await dial(port)
    socket.on('error', () => {})
    try {
      await cli.waitFor(/dialling ws:\/\/127\.0\.0\.1:9090\/api\/v1\/forward\/bare\/db\/5432/)
    } finally {
      socket.destroy()
    }
  })
})
