import assert from 'node:assert/strict'
import type {ServerResponse} from 'node:http'

import {runCli} from '../support/cli.js'
import {sendProblem, TestControlPlane} from '../support/test-control-plane.js'
import {UnacceptedPort} from '../support/unaccepted-port.js'

const PROJECT_PATH = '/api/v1/projects/shop'
// Starting node and the CLI on a busy machine is the slow part, not what is measured.
const MARGIN_MS = 6000

describe('port-forward resolves within one total budget', () => {
  let plane: TestControlPlane
  const held = new Set<ServerResponse>()

  before(async () => {
    plane = await TestControlPlane.start()
    plane.addProject('shop', {node: 'node-a', services: ['db']})
    plane.addNode('node-a', {agentPort: 9, ip: '127.0.0.1'})
  })

  afterEach(() => {
    plane.override = undefined
    plane.calls.length = 0
    for (const response of held) response.destroy()
    held.clear()
  })

  after(async () => {
    await plane.close()
  })

  /** Runs against `server` and returns the error line, exit code and time taken. */
  async function run(flags: string[], server = plane.url) {
    const started = Date.now()
    const result = await runCli(['port-forward', 'shop/db', '5432', ...flags],
      {CARACTRL_SERVER: server})
    const elapsedMs = Date.now() - started
    const lines = result.stderr.split('\n').filter(Boolean)
    assert.equal(lines.length, 1, `one line on stderr:\n${result.stderr}`)
    return {code: result.code, elapsedMs, line: lines[0]}
  }

  it('stops at --resolve-timeout when the control plane never sends headers', async () => {
    plane.override = (_request, response) => {
      held.add(response)
      return true
    }

    const {code, elapsedMs, line} =
      await run(['--resolve-timeout', '2s', '--request-timeout', '30s'])
    assert.equal(code, 3)
    assert.match(line, new RegExp(`^Error: the control plane at http://127\\.0\\.0\\.1:\\d+/ ` +
      `did not answer GET ${PROJECT_PATH} within the 2s --resolve-timeout: ` +
      'no response headers arrived \\(1 attempt\\); .*allow more time with --resolve-timeout$'))
    assert.ok(elapsedMs < 2000 + MARGIN_MS, `took ${elapsedMs} ms`)
  })

  it('retries attempts that time out, ' +
    'but starts none that --resolve-timeout cannot hold', async () => {
    plane.override = (_request, response) => {
      held.add(response)
      return true
    }

    // 0.5s attempt, 1s pause, 0.5s attempt: the next 2s pause would end past the budget.
    const {code, elapsedMs, line} =
      await run(['--resolve-timeout', '3s', '--request-timeout', '500ms'])
    assert.equal(code, 3)
    assert.match(line,
      /within the 0\.5s --request-timeout: no response headers arrived \(2 attempts\)/)
    assert.equal(plane.callsTo(PROJECT_PATH).length, 2)
    assert.ok(elapsedMs < 3000 + MARGIN_MS, `took ${elapsedMs} ms`)
  })

  it('cuts a body that trickles in, saying how much had arrived', async () => {
    plane.override = (_request, response) => {
      held.add(response)
      response.writeHead(200, {'content-type': 'application/json'})
      response.write('{"kind": "Project"')
      const timer = setInterval(() => response.write(' '), 100)
      response.on('close', () => clearInterval(timer))
      return true
    }

    const {code, elapsedMs, line} =
      await run(['--resolve-timeout', '2s', '--request-timeout', '30s'])
    assert.equal(code, 3)
    assert.match(line,
      new RegExp('within the 2s --resolve-timeout: the body was still arriving, ' +
        '\\d+ bytes so far \\(1 attempt\\)'))
    assert.ok(elapsedMs < 2000 + MARGIN_MS, `took ${elapsedMs} ms`)
  })

  it('cuts a trickling body at --request-timeout too, and retries it', async () => {
    plane.override = (_request, response) => {
      held.add(response)
      response.writeHead(200, {'content-type': 'application/json'})
      const timer = setInterval(() => response.write(' '), 100)
      response.on('close', () => clearInterval(timer))
      return true
    }

    const {code, line} = await run(['--resolve-timeout', '20s', '--request-timeout', '500ms'])
    assert.equal(code, 3)
    assert.match(line,
      new RegExp('within the 0\\.5s --request-timeout: the body was still arriving, ' +
        '\\d+ bytes so far \\(3 attempts\\)'))
    assert.equal(plane.callsTo(PROJECT_PATH).length, 3)
  })

  it('shortens a long Retry-After of a 503 to 2s, ' +
    'and reports the 503 once retries are spent', async () => {
    plane.override = (_request, response) => {
      response.setHeader('retry-after', '3600')
      sendProblem(response, 503, 'Service Unavailable', 'maintenance')
      return true
    }

    const {code, elapsedMs, line} = await run([])
    assert.equal(code, 3)
    assert.match(line, /failed to show project "shop": Service Unavailable: maintenance /)
    assert.match(line, / \(it asked to retry after 3600s\); retry in a moment/)
    assert.equal(plane.callsTo(PROJECT_PATH).length, 3)
    assert.ok(elapsedMs < 15_000 + MARGIN_MS, `took ${elapsedMs} ms`)
  })

  it('does not start a pause that the budget cannot hold, ' +
    'and reports the answer it has', async () => {
    plane.override = (_request, response) => {
      response.setHeader('retry-after', '3600')
      sendProblem(response, 503, 'Service Unavailable', 'maintenance')
      return true
    }

    // The first pause, shortened to 2s, cannot fit in a 2s budget that has already begun.
    const {code, line} = await run(['--resolve-timeout', '2s'])
    assert.equal(code, 3)
    assert.match(line, /Service Unavailable: maintenance \(it asked to retry after 3600s\)/)
    assert.equal(plane.callsTo(PROJECT_PATH).length, 1)
  })

  it('retries 500s twice, then reports the control plane\'s failure', async () => {
    plane.override = (_request, response) => {
      sendProblem(response, 500, 'Internal Server Error', 'database is down')
      return true
    }

    const {code, elapsedMs, line} = await run([])
    assert.equal(code, 3)
    assert.match(line, new RegExp('^Error: control plane at http://127\\.0\\.0\\.1:\\d+/ ' +
      'failed to show project "shop": Internal Server Error: database is down; retry in a moment'))
    assert.equal(plane.callsTo(PROJECT_PATH).length, 3)
    assert.ok(elapsedMs < 15_000 + MARGIN_MS, `took ${elapsedMs} ms`)
  })

  describe('against a listener that never accepts', () => {
    let unaccepted: UnacceptedPort

    before(async () => {
      unaccepted = await UnacceptedPort.start()
    })

    after(async () => {
      await unaccepted.close()
    })

    it('stops at --resolve-timeout, saying the connection was never accepted', async () => {
      const {code, elapsedMs, line} = await run(
        ['--resolve-timeout', '2s', '--request-timeout', '30s'],
        `http://127.0.0.1:${unaccepted.port}`,
      )
      assert.equal(code, 3)
      assert.match(line,
        /within the 2s --resolve-timeout: the connection was never accepted \(1 attempt\)/)
      assert.ok(elapsedMs < 2000 + MARGIN_MS, `took ${elapsedMs} ms`)
    })
  })

  it('lets a Pending project wait its --running-timeout beyond --resolve-timeout', async () => {
    plane.addProject('slow', {phase: 'Pending', services: ['db']})
    const started = Date.now()
    const result = await runCli(['port-forward', 'slow/db', '5432', '--resolve-timeout', '1s',
      '--running-timeout', '2500ms'], {CARACTRL_SERVER: plane.url})
    const elapsedMs = Date.now() - started
    assert.equal(result.code, 4)
    assert.match(result.stderr, /^Error: project "slow" is still Pending after 2\.5s: /m)
    assert.ok(plane.callsTo('/api/v1/projects/slow').length > 3, 'it polled past the 1s budget')
    assert.ok(elapsedMs < 3500 + MARGIN_MS, `took ${elapsedMs} ms`)
  })

  it('refuses a --resolve-timeout of 0 as a usage error', async () => {
    const result = await runCli(['port-forward', 'shop/db', '5432', '--resolve-timeout', '0'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /--resolve-timeout must be more than 0/)
  })
})
