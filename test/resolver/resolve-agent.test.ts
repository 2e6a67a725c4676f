import assert from 'node:assert/strict'

import type {Target} from '../../src/args/target.js'
import {ExitCode, isForwardError} from '../../src/errors/index.js'
import {ControlPlaneClient} from '../../src/resolver/control-plane-client.js'
import {controlPlaneConfig} from '../../src/resolver/control-plane-config.js'
import {resolveAgent} from '../../src/resolver/resolve-agent.js'
import {ResolveBudget} from '../../src/resolver/resolve-budget.js'
import {sendProblem, TestControlPlane} from '../support/test-control-plane.js'

const SHOP_DB: Target = {project: 'shop', service: 'db'}
const TOKEN = 'tok-resolver-5c1e'

/** Resolves `target` through `plane` as the command does, with the environment's settings. */
async function resolve(plane: TestControlPlane, target = SHOP_DB, options: {
  token?: string
  budgetMs?: number
} = {}) {
  const env = {CARACTRL_SERVER: plane.url, CARACTRL_TOKEN: options.token}
  const {config} = controlPlaneConfig({answers: [], env, flags: {}})
  const client = await ControlPlaneClient.create(config)
  const budget = new ResolveBudget(options.budgetMs ?? 15_000)
  try {
    return await resolveAgent(client, target, {budget, emit: () => {}, runningTimeoutMs: 0})
  } finally {
    budget.dispose()
  }
}

/** Resolves and returns the error, checked to be one line with the given exit code and reason. */
async function failure(plane: TestControlPlane, exit: number, reason: string, target = SHOP_DB,
  options: {token?: string; budgetMs?: number} = {}): Promise<string> {
  const error = await resolve(plane, target, options).then(
    (agent) => assert.fail(`resolved to ${JSON.stringify(agent)}`),
    (error: unknown) => error,
  )
  assert.ok(isForwardError(error), `not a ForwardError: ${(error as Error).stack}`)
  assert.equal(error.exitCode, exit, error.message)
  assert.equal(error.reason, reason, error.message)
  assert.doesNotMatch(error.message, /\n/)
  return error.message
}

describe('resolveAgent', () => {
  let plane: TestControlPlane

  beforeEach(async () => {
    plane = await TestControlPlane.start()
    plane.addNode('node-a', {agentPort: 9191, ip: '10.0.0.7'})
  })

  afterEach(async () => {
    await plane.close()
  })

  it('follows a Running project to its node\'s address and agent port', async () => {
    plane.addProject('shop', {node: 'node-a', services: ['db']})
    assert.deepEqual(await resolve(plane),
      {host: '10.0.0.7', node: 'node-a', port: 9191, warnings: []})
    assert.deepEqual(plane.calls.map((call) => call.url),
      ['/api/v1/projects/shop', '/api/v1/nodes/node-a'])
  })

  describe('project phases', () => {
    for (const phase of ['Pending', 'Scheduled']) {
      it(`refuses a ${phase} project, naming the phase and --node`, async () => {
        plane.addProject('shop', {phase})
        const message = await failure(plane, ExitCode.Target, 'not-running')
        assert.match(message, new RegExp(`^project "shop" is ${phase}, not Running: `))
        assert.match(message, /--node host:port/)
      })
    }

    it('refuses a Failed project and says to redeploy it', async () => {
      plane.addProject('shop', {phase: 'Failed'})
      assert.match(await failure(plane, ExitCode.Target, 'failed'),
        /^project "shop" has Failed: .*redeploy/)
    })

    for (const phase of ['Terminating', 'Terminated']) {
      it(`refuses a ${phase} project and says to deploy it again`, async () => {
        plane.addProject('shop', {phase})
        assert.match(await failure(plane, ExitCode.Target, 'terminating'),
          new RegExp(`^project "shop" is ${phase}: deploy it again`))
      })
    }

    it('refuses a phase it does not know, quoting it', async () => {
      plane.addProject('shop', {phase: 'Hibernating'})
      assert.match(await failure(plane, ExitCode.Target, 'not-running'),
        new RegExp('^project "shop" is in phase "Hibernating", not Running: ' +
          'check it with caractrl, or .*--node'))
    })

    it('refuses a project without a status instead of crashing', async () => {
      plane.projects.set('shop', {kind: 'Project', metadata: {name: 'shop'}, status: 'odd'})
      assert.match(await failure(plane, ExitCode.Target, 'not-running'),
        /^project "shop" is without a phase \(status\.phase is missing\)/)
    })
  })

  it('reports a missing project with the control plane\'s own Problem Details line', async () => {
    const message = await failure(plane, ExitCode.Target, 'not-found')
    assert.match(message,
      /^project "shop" was not found on the control plane at http:\/\/127\.0\.0\.1:\d+\//)
    assert.match(message, /\(Not Found: project not found: shop\)/)
  })

  it('refuses a Running project that names no node, pointing at --node', async () => {
    plane.addProject('shop', {node: ''})
    assert.match(await failure(plane, ExitCode.Target, 'unscheduled'),
      /^project "shop" is Running but names no node \(status\.nodeRef is empty\): .*--node/)
  })

  it('reports a node the control plane does not know, naming node and project', async () => {
    plane.addProject('shop', {node: 'node-gone'})
    const message = await failure(plane, ExitCode.Target, 'not-found')
    assert.match(message, /^node "node-gone" of project "shop" was not found on the control plane/)
    assert.match(message, /\(Not Found: node not found: node-gone\)/)
    assert.match(message, /--node host:port/)
  })

  it('refuses a node without an address, pointing at --node', async () => {
    plane.addProject('shop', {node: 'node-b'})
    plane.addNode('node-b', {agentPort: 9090})
    assert.match(await failure(plane, ExitCode.Target, 'no-node-address'),
      /^node "node-b" reports no address \(status\.network\.ip is missing\): .*--node host:port/)
  })

  it('refuses a node without any status instead of crashing', async () => {
    plane.addProject('shop', {node: 'node-b'})
    plane.nodes.set('node-b', {kind: 'Node', metadata: {name: 'node-b'}})
    assert.match(await failure(plane, ExitCode.Target, 'no-node-address'),
      /^node "node-b" reports no address/)
  })

  for (const agentPort of [99_999, -1, '9090', 1.5]) {
    it(`refuses a node that reports agentPort ${JSON.stringify(agentPort)}`, async () => {
      plane.addProject('shop', {node: 'node-b'})
      plane.addNode('node-b', {agentPort: agentPort as number, ip: '10.0.0.8'})
      assert.match(await failure(plane, ExitCode.ControlPlane, 'bad-node-address'),
        /^node "node-b" reports an agent port that is not one .*--node host:port$/)
    })
  }

  for (const ip of ['127.0.0.1/evil?x=', 'a b', 'host:80', '']) {
    it(`refuses a node that reports the address ${JSON.stringify(ip)}`, async () => {
      plane.addProject('shop', {node: 'node-b'})
      plane.addNode('node-b', {agentPort: 9090, ip})
      const reason = ip === '' ? 'no-node-address' : 'bad-node-address'
      const exit = ip === '' ? ExitCode.Target : ExitCode.ControlPlane
      assert.match(await failure(plane, exit, reason), /^node "node-b" reports (an|no) address/)
    })
  }

  it('stops reading an answer far larger than a project, without holding it', async () => {
    plane.override = (_request, response) => {
      response.writeHead(200, {'content-type': 'application/json'})
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const pump = () => {
        while (response.write(chunk)) { /* fill the socket */ }
        response.once('drain', pump)
      }

      response.on('error', () => {})
      response.on('close', () => response.removeAllListeners('drain'))
      pump()
      return true
    }

    assert.match(await failure(plane, ExitCode.ControlPlane, 'answer-too-large'),
      /^control plane at .* answered GET \/api\/v1\/projects\/shop with more than 1 MiB/)
  })

  for (const agentPort of [undefined, 0]) {
    it(`uses port 9090 with a warning when the node reports agentPort ${agentPort}`, async () => {
      plane.addProject('shop', {node: 'node-b'})
      plane.addNode('node-b', {agentPort, ip: '10.0.0.8'})
      const {host, port, warnings} = await resolve(plane)
      assert.deepEqual({host, port}, {host: '10.0.0.8', port: 9090})
      assert.equal(warnings.length, 1)
      assert.match(warnings[0], /^node "node-b" reports no agent port .*trying the default 9090/)
    })
  }

  it('names the services a project has when asked for another one', async () => {
    plane.addProject('shop', {services: ['db', 'cache', 'web']})
    assert.equal(
      await failure(plane, ExitCode.Target, 'unknown-service', {project: 'shop', service: 'queue'}),
      'project "shop" has no service "queue"; it has: db, cache, web',
    )
  })

  it('does not check the service when the project lists none', async () => {
    plane.projects.set('shop', {status: {nodeRef: 'node-a', phase: 'Running'}})
    assert.equal((await resolve(plane)).port, 9191)
  })

  it('sends the token as a bearer token to the control plane', async () => {
    plane.token = TOKEN
    plane.addProject('shop')
    assert.equal((await resolve(plane, SHOP_DB, {token: TOKEN})).host, '10.0.0.7')
    assert.deepEqual(plane.calls.map((call) => call.headers.authorization),
      [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`])
  })

  it('says to log in again when the token is refused, without showing it', async () => {
    plane.token = TOKEN
    plane.addProject('shop')
    const message = await failure(plane, ExitCode.ControlPlane, 'unauthorized', SHOP_DB,
      {token: 'tok-stale-91ab'})
    assert.match(message, /Unauthorized: a valid bearer token is required/)
    assert.match(message, /log in again/)
    assert.doesNotMatch(message, /tok-/)
    assert.equal(plane.calls.length, 1, 'a refused token is not retried')
  })

  it('retries a GET that failed with 500 and resolves', async () => {
    plane.addProject('shop')
    let failures = 1
    plane.override = (_request, response) => {
      if (failures-- <= 0) return false
      sendProblem(response, 500, 'Internal Server Error', 'database is restarting')
      return true
    }

    assert.equal((await resolve(plane)).host, '10.0.0.7')
    assert.equal(plane.callsTo('/api/v1/projects/shop').length, 2)
  })

  it('gives a clean line with the status when a proxy answers with an HTML page', async () => {
    plane.override = (_request, response) => {
      response.writeHead(502, {'content-type': 'text/html'})
      response.end('<html><head><title>502 Bad Gateway</title></head>\n' +
        '<body><center><h1>502 Bad Gateway' +
        '</h1></center><hr><center>nginx</center></body></html>\n')
      return true
    }

    const message = await failure(plane, ExitCode.ControlPlane, 'http-error')
    assert.match(message,
      /failed to show project "shop": HTTP 502 Bad Gateway .*; retry in a moment/)
    assert.doesNotMatch(message, /[<>]/)
    assert.equal(plane.calls.length, 3, 'a 502 is retried twice')
  })

  it('shows the validation errors of a Problem Details answer', async () => {
    plane.override = (_request, response) => {
      sendProblem(response, 422, 'Unprocessable Entity', 'invalid name',
        {errors: ['name is too long']})
      return true
    }

    assert.match(await failure(plane, ExitCode.ControlPlane, 'http-error'),
      new RegExp('refused to show project "shop": Unprocessable Entity: ' +
        'invalid name \\(name is too long\\); check'))
  })

  it('refuses a 200 answer whose body is not JSON', async () => {
    plane.override = (_request, response) => {
      response.writeHead(200, {'content-type': 'text/html'})
      response.end('<html><body>Welcome</body></html>')
      return true
    }

    assert.match(await failure(plane, ExitCode.ControlPlane, 'bad-answer'),
      /answered GET \/api\/v1\/projects\/shop with a body that is not JSON: .*--server/)
  })

  it('refuses a JSON answer that is not an object', async () => {
    plane.override = (_request, response) => {
      response.writeHead(200, {'content-type': 'application/json'})
      response.end('["shop"]')
      return true
    }

    assert.match(await failure(plane, ExitCode.ControlPlane, 'bad-answer'), /not project "shop"/)
  })

  it('gives up within its total budget when the control plane never answers', async () => {
    plane.override = () => true
    const message = await failure(plane, ExitCode.ControlPlane, 'timeout', SHOP_DB,
      {budgetMs: 300})
    assert.match(message,
      new RegExp('did not answer GET \\/api\\/v1\\/projects\\/shop ' +
        'within the 0\\.3s --resolve-timeout: no response headers'))
  })
})
