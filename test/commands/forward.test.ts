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

  // The same transfers with the agent found through the control plane and given with --node.
  const modes: Array<[string, () => {args: string[]; env: NodeJS.ProcessEnv}]> = [
    ['through the control plane', () => ({args: [], env: {CARACTRL_SERVER: plane.url}})],
    ['with --node', () => ({args: ['--node', agent.address], env: {}})],
  ]
  for (const [how, mode] of modes) {
    it(`echoes 64 MiB intact through one connection, ${how}`, async () => {
      const {args, env} = mode()
      cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, ...args], env)
      const [port] = await cli.ready()
      const payload = randomPayload(64 * MiB)
      assert.equal(await echoThrough(port, payload), sha256(payload))
    })

    it(`carries 50 concurrent connections, each intact, ${how}`, async () => {
      const {args, env} = mode()
      cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, ...args], env)
      const [port] = await cli.ready()
      const payloads = Array.from({length: 50}, () => randomPayload(MiB))
      const hashes = await Promise.all(payloads.map((payload) => echoThrough(port, payload)))
      assert.deepEqual(hashes, payloads.map((payload) => sha256(payload)))
    })
  }
})
