import assert from 'node:assert/strict'
import type {Socket} from 'node:net'

import {RunningCli} from '../support/cli.js'
import {freePort} from '../support/free-port.js'
import {startReferenceAgent, type ReferenceAgent} from '../support/reference-agent.js'
import {referenceBinaries} from '../support/reference.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {dial, echoThrough, randomPayload, sha256} from '../support/transfer.js'

const MiB = 1024 * 1024

/** Resolves once the connection is gone, however it went: a refused tunnel ends it. */
async function closed(socket: Socket): Promise<void> {
  socket.on('error', () => {})
  socket.resume()
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve())
  })
}

describe('port-forward against the Go reference agent', function () {
  let agent: ReferenceAgent
  let target: Target
  let cli: RunningCli | undefined
  const extra: Target[] = []

  before(async function () {
    // The first call compiles the reference, which can take a while on a cold Go cache.
    this.timeout(300_000)
    const binaries = await referenceBinaries()
    if (typeof binaries === 'string') {
      console.log(`      skipped: ${binaries}`)
      this.skip()
    }

    agent = await startReferenceAgent(binaries.agent)
    target = await startTarget(echo)
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
    for (const started of extra.splice(0)) await started.close()
  })

  after(async () => {
    await agent?.close()
    await target?.close()
  })

  it('echoes 64 MiB of random bytes each way through one connection intact', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', String(target.port), '0',
      '--node', agent.address])
    const [port] = await cli.ready()
    const payload = randomPayload(64 * MiB)
    assert.equal(await echoThrough(port, payload), sha256(payload))
  })

  it('carries 50 concurrent connections, each intact', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, '--node', agent.address])
    const [port] = await cli.ready()
    const payloads = Array.from({length: 50}, () => randomPayload(MiB))
    const hashes = await Promise.all(payloads.map((payload) => echoThrough(port, payload)))
    assert.deepEqual(hashes, payloads.map((payload) => sha256(payload)))
  })

  it('keeps accepting after the agent answers 502 for a port nothing listens on', async () => {
    const remote = await freePort()
    cli = new RunningCli(['port-forward', 'shop/db', `0:${remote}`, '--node', agent.address])
    const [port] = await cli.ready()

    await closed(await dial(port))
    await cli.waitFor(/Connection #1 -> shop\/db:\d+ failed: agent refused the tunnel: Bad Gateway/)

    extra.push(await startTarget(echo, remote))
    const payload = randomPayload(MiB)
    assert.equal(await echoThrough(port, payload), sha256(payload))
    assert.equal(cli.child.exitCode, null, cli.stderr)
  })

  it('reports a service without a container (404) and keeps accepting', async () => {
    cli = new RunningCli(['port-forward', 'shop/missing', `0:${target.port}`,
      '--node', agent.address])
    const [port] = await cli.ready()

    await closed(await dial(port))
    await cli.waitFor(
      /Connection #1 -> shop\/missing:\d+ failed: agent refused the tunnel: Not Found/)
    await closed(await dial(port))
    await cli.waitFor(
      /Connection #2 -> shop\/missing:\d+ failed: agent refused the tunnel: Not Found/)
    assert.equal(cli.child.exitCode, null, cli.stderr)
  })
})
