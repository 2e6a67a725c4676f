import assert from 'node:assert/strict'

import {RunningCli} from '../support/cli.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'
import {echoThrough, randomPayload, sha256} from '../support/transfer.js'

const MOVED = new RegExp('project "shop" moved from node "node-a" to node "node-b" ' +
  '\\(127\\.0\\.0\\.1:\\d+\\); new connections go there', 'g')

describe('port-forward follows a project that moves', () => {
  let plane: TestControlPlane
  let agentA: TestAgent
  let agentB: TestAgent
  let target: Target
  /** Kept by agent A by reference, so a test can take its container away. */
  let missingOnA: string[]
  let cli: RunningCli | undefined

  before(async () => {
    target = await startTarget(echo)
  })

  beforeEach(async () => {
    plane = await TestControlPlane.start()
    missingOnA = []
    agentA = await TestAgent.start({missing: missingOnA})
    agentB = await TestAgent.start()
    plane.addProject('shop', {node: 'node-a'})
    plane.addNode('node-a', {agentPort: agentA.port, ip: '127.0.0.1'})
    plane.addNode('node-b', {agentPort: agentB.port, ip: '127.0.0.1'})
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
    await Promise.all([plane.close(), agentA.close(), agentB.close()])
  })

  after(async () => {
    await target.close()
  })

  async function echoes(port: number): Promise<void> {
    const payload = randomPayload(16 * 1024)
    assert.equal(await echoThrough(port, payload), sha256(payload))
  }

  async function startForward(args: string[] = []): Promise<number> {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, ...args],
      {CARACTRL_SERVER: plane.url})
    const [port] = await cli.ready()
    await echoes(port)
    assert.equal(agentA.requests.length, 1)
    return port
  }

  it('carries new connections to the new node once the old agent is stopped', async () => {
    const port = await startForward()
    plane.addProject('shop', {node: 'node-b'})
    await agentA.close()

    await Promise.all(Array.from({length: 5}, () => echoes(port)))
    assert.equal(agentB.requests.length, 5)
    assert.equal([...cli!.stderr.matchAll(MOVED)].length, 1,
      `the move is told once:\n${cli!.stderr}`)
    // Connection #1 was open towards node-a when its agent stopped; none after it failed.
    assert.doesNotMatch(cli!.stderr, /Connection #([2-9]|\d\d+) .*failed/)

    await echoes(port)
    assert.equal(agentB.requests.length, 6, 'later connections go straight to the new node')
  })

  it('carries new connections to the new node ' +
    'when the old agent has no container any more', async () => {
    const port = await startForward()
    plane.addProject('shop', {node: 'node-b'})
    missingOnA.push('db')

    await echoes(port)
    await echoes(port)
    assert.equal(agentB.requests.length, 2)
    assert.equal(agentA.requests.length, 2, 'only the first connection after the move tried node-a')
    assert.equal([...cli!.stderr.matchAll(MOVED)].length, 1)
  })

  it('fails the connection, without moving, ' +
    'when the project is still on the same node', async () => {
    const port = await startForward()
    missingOnA.push('db')

    await assert.rejects(echoes(port))
    await cli!.waitFor(/Connection #2 -> shop\/db:\d+ failed: agent refused the tunnel: Not Found/)
    assert.doesNotMatch(cli!.stderr, /moved/)
    assert.equal(agentB.requests.length, 0)
  })

  it('never asks the control plane again for an agent given with --node', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, '--node', agentA.address],
      {CARACTRL_SERVER: plane.url})
    const [port] = await cli.ready()
    missingOnA.push('db')

    await assert.rejects(echoes(port))
    await cli.waitFor(/failed: agent refused the tunnel/)
    assert.equal(plane.calls.length, 0)
  })
})
