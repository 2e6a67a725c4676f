import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import type {AddressInfo} from 'node:net'

import {RunningCli, runCli} from '../support/cli.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'
import {echoThrough, randomPayload, sha256} from '../support/transfer.js'

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as AddressInfo
  await new Promise((resolve) => {
    server.close(resolve)
  })
  return port
}

describe('port-forward before the project runs', () => {
  let plane: TestControlPlane
  let agent: TestAgent
  let target: Target
  let cli: RunningCli | undefined
  const timers: NodeJS.Timeout[] = []

  before(async () => {
    plane = await TestControlPlane.start()
    agent = await TestAgent.start()
    target = await startTarget(echo)
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
  })

  beforeEach(() => {
    plane.projects.clear()
    plane.calls.length = 0
  })

  afterEach(async () => {
    for (const timer of timers.splice(0)) clearTimeout(timer)
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([plane.close(), agent.close(), target.close()])
  })

  const env = () => ({CARACTRL_SERVER: plane.url})

  it('waits while the project is Pending then Scheduled, ' +
    'printing each phase, then forwards', async () => {
    plane.addProject('shop', {node: '', phase: 'Pending'})
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`], env())

    // Each phase changes only once the CLI has seen the one before, however slow it starts.
    const projectCalls = () => plane.callsTo('/api/v1/projects/shop').length
    const afterCalls = async (count: number) => {
      while (projectCalls() < count) await new Promise((resolve) => {
        setTimeout(resolve, 20)
      })
    }

    await afterCalls(1)
    plane.addProject('shop', {node: 'node-a', phase: 'Scheduled'})
    await afterCalls(projectCalls() + 1)
    plane.addProject('shop', {node: 'node-a', phase: 'Running'})

    const [port] = await cli.ready()
    const lines = cli.stderr.trim().split('\n')
    assert.deepEqual(lines.slice(0, 3), [
      'project "shop" is Pending; waiting up to 60s for it to run',
      'project "shop" is now Scheduled',
      'project "shop" is Running on node "node-a"',
    ])
    assert.match(lines[3], /^Forwarding from 127\.0\.0\.1:\d+ -> shop\/db:/)

    const payload = randomPayload(1024)
    assert.equal(await echoThrough(port, payload), sha256(payload))
  })

  it('stops at once with the target exit status when the project has Failed', async () => {
    plane.addProject('shop', {phase: 'Failed'})
    const result = await runCli(['port-forward', 'shop/db', `0:${target.port}`], env())
    assert.equal(result.code, 4)
    assert.match(result.stderr, /^Error: project "shop" has Failed: /m)
    assert.equal(plane.callsTo('/api/v1/projects/shop').length, 1, 'a Failed project is not polled')
  })

  it('stops at once when the project is Terminating', async () => {
    plane.addProject('shop', {phase: 'Terminating'})
    const result = await runCli(['port-forward', 'shop/db', `0:${target.port}`], env())
    assert.equal(result.code, 4)
    assert.match(result.stderr, /^Error: project "shop" is Terminating: /m)
  })

  it('gives up after --running-timeout, saying how to wait longer', async () => {
    plane.addProject('shop', {phase: 'Scheduled'})
    const result = await runCli(['port-forward', 'shop/db', `0:${target.port}`,
      '--running-timeout', '1s'], env())
    assert.equal(result.code, 4)
    assert.match(result.stderr,
      new RegExp('^Error: project "shop" is still Scheduled after 1s: ' +
        'wait longer with a larger --running-timeout', 'm'))
    assert.ok(plane.callsTo('/api/v1/projects/shop').length > 1, 'the project was polled')
  })

  it('does not wait with --running-timeout 0', async () => {
    plane.addProject('shop', {phase: 'Pending'})
    const result = await runCli(['port-forward', 'shop/db', `0:${target.port}`,
      '--running-timeout', '0'], env())
    assert.equal(result.code, 4)
    assert.match(result.stderr, /^Error: project "shop" is Pending, not Running/m)
    assert.equal(plane.callsTo('/api/v1/projects/shop').length, 1)
  })

  it('fails before listening on an unknown service, ' +
    'naming the services the project has', async () => {
    plane.addProject('shop', {phase: 'Pending', services: ['db', 'web']})
    const result = await runCli(['port-forward', 'shop/cache', `0:${target.port}`], env())
    assert.equal(result.code, 4)
    assert.match(result.stderr, /^Error: project "shop" has no service "cache"; it has: db, web$/m)
    assert.doesNotMatch(result.stderr, /Forwarding from/)
  })

  it('warns, and still listens, ' +
    'when the node\'s reported agent does not answer /healthz', async () => {
    plane.addProject('shop', {node: 'node-far'})
    plane.addNode('node-far', {agentPort: await closedPort(), ip: '127.0.0.1'})
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`], env())
    await cli.ready()
    assert.match(cli.stderr,
      new RegExp('^Warning: node "node-far" reports its agent at 127\\.0\\.0\\.1:\\d+, ' +
        'which did not answer \\/healthz from here \\(.*ECONNREFUSED.*\\): ' +
        '.*pass it with --node host:port$', 'm'))
  })
})
