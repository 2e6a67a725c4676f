import assert from 'node:assert/strict'
import type {Socket} from 'node:net'

import type {RunningCli} from '../support/cli.js'
import {failureLines, forwardTo} from '../support/forward.js'
import {IdleProxy} from '../support/idle-proxy.js'
import {SpawnedAgent} from '../support/spawned-agent.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {dial} from '../support/transfer.js'

/** What the proxy in front of the agent allows a connection to idle. */
const PROXY_IDLE_MS = 5000

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => {
    setTimeout(resolve, ms)
  })
}

/** Sends a line and resolves with what comes back, or rejects if the connection ends. */
async function roundTrip(socket: Socket, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      cleanup()
      resolve(chunk.toString())
    }

    const onEnd = () => {
      cleanup()
      reject(new Error('the connection ended'))
    }

    const cleanup = () => {
      socket.off('data', onData).off('error', onEnd).off('close', onEnd)
    }

    socket.on('data', onData).on('error', onEnd).on('close', onEnd)
    socket.write(line)
  })
}

/** Resolves with how long after `since` the socket closed. */
async function closedAfter(socket: Socket, since: number): Promise<number> {
  if (!socket.destroyed) {
    await new Promise((resolve) => {
      socket.once('close', resolve)
    })
  }

  return Date.now() - since
}

describe('tunnel keeps idle streams alive and notices a dead agent', () => {
  let target: Target
  let cli: RunningCli | undefined
  const cleanups: Array<() => Promise<void>> = []

  before(async () => {
    target = await startTarget(echo)
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  after(async () => {
    await target.close()
  })

  it('keeps a connection usable after 15s idle ' +
    'behind a proxy that cuts at 5s idle', async function () {
    this.timeout(40_000)
    const agent = await TestAgent.start()
    const proxy = await IdleProxy.start(agent.port, PROXY_IDLE_MS)
    cleanups.push(() => agent.close(), () => proxy.close())
    const forward = await forwardTo(proxy.address, target.port, ['--ping-interval', '1s'])
    cli = forward.cli

    const socket = await dial(forward.port)
    socket.on('error', () => {})
    assert.equal(await roundTrip(socket, 'before\n'), 'before\n')
    await sleep(15_000)
    assert.equal(await roundTrip(socket, 'after\n'), 'after\n')
    assert.equal(proxy.cuts, 0)
    socket.destroy()
  })

  it('loses an idle connection to that proxy when pings are off', async function () {
    this.timeout(40_000)
    const agent = await TestAgent.start()
    const proxy = await IdleProxy.start(agent.port, PROXY_IDLE_MS)
    cleanups.push(() => agent.close(), () => proxy.close())
    const forward = await forwardTo(proxy.address, target.port, ['--ping-interval', '0'])
    cli = forward.cli

    const socket = await dial(forward.port)
    socket.on('error', () => {})
    assert.equal(await roundTrip(socket, 'before\n'), 'before\n')
    const idleSince = Date.now()
    const ms = await closedAfter(socket, idleSince)
    assert.ok(ms >= PROXY_IDLE_MS - 500, `closed after ${ms} ms, before the proxy's idle limit`)
    assert.equal(proxy.cuts, 1)
    await cli.waitFor(/failed: lost the connection to the agent/)
  })

  it('terminates a tunnel within about two ping intervals once the agent stops', async function () {
    this.timeout(40_000)
    const agent = await SpawnedAgent.start()
    cleanups.push(() => agent.kill())
    const forward = await forwardTo(agent.address, target.port, ['--ping-interval', '1s'])
    cli = forward.cli

    const socket = await dial(forward.port)
    socket.on('error', () => {})
    assert.equal(await roundTrip(socket, 'before\n'), 'before\n')
    const stoppedAt = Date.now()
    agent.signal('SIGSTOP')
    const ms = await closedAfter(socket, stoppedAt)
    agent.signal('SIGCONT')

    // Two intervals, with a margin for a loaded machine.
    assert.ok(ms < 2 * 1000 + 3000, `closed ${ms} ms after the agent stopped`)
    await cli.waitFor(/failed: agent did not answer a keepalive ping within 1s/)
    assert.equal(failureLines(cli).length, 1)
  })
})
