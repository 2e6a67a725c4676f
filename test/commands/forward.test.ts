import assert from 'node:assert/strict'

import {RunningCli} from '../support/cli.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'
import {echoThrough, randomPayload, sha256} from '../support/transfer.js'

const MiB = 1024 * 1024

describe('port-forward carries bytes end to end', () => {
  let plane: TestControlPlane
  let agent: TestAgent
  let target: Target
  let cli: RunningCli | undefined

  before(async () => {
    plane = await TestControlPlane.start()
    agent = await TestAgent.start()
    target = await startTarget(echo)
    plane.addProject('shop', {node: 'node-a', services: ['db']})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([plane.close(), agent.close(), target.close()])
  })

  it('resolves the agent through the control plane and echoes 64 MiB intact', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', String(target.port), '0'],
      {CARACTRL_SERVER: plane.url})
    const [port] = await cli.ready()
    const payload = randomPayload(64 * MiB)
    assert.equal(await echoThrough(port, payload), sha256(payload))
  })

  it('carries 50 concurrent connections through --node, each intact', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, '--node', agent.address])
    const [port] = await cli.ready()
    const payloads = Array.from({length: 50}, () => randomPayload(MiB))
    const hashes = await Promise.all(payloads.map((payload) => echoThrough(port, payload)))
    assert.deepEqual(hashes, payloads.map((payload) => sha256(payload)))
  })
})
