import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import type {Socket} from 'node:net'

import {RunningCli} from '../support/cli.js'
import {startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {dial, randomPayload, sha256} from '../support/transfer.js'

const MiB = 1024 * 1024

/** Later than the window in which the CLI takes a repeated signal for the same keypress. */
const SECOND_SIGNAL_AFTER_MS = 1500

/** A download the test can hold half way: what the client has and how it ended. */
interface Download {
  received: number
  hash: () => string
  ended: Promise<'end' | 'error' | 'close'>
  halfway: Promise<void>
}

function download(socket: Socket, half: number): Download {
  const hash = createHash('sha256')
  let reachedHalf!: () => void
  const state: Download = {
    ended: new Promise((resolve) => {
      socket.once('end', () => resolve('end'))
      socket.once('error', () => resolve('error'))
      socket.once('close', () => resolve('close'))
    }),
    halfway: new Promise((resolve) => {
      reachedHalf = resolve
    }),
    hash: () => hash.digest('hex'),
    received: 0,
  }
  socket.on('data', (chunk: Buffer) => {
    hash.update(chunk)
    state.received += chunk.length
    if (state.received >= half) reachedHalf()
  })
  return state
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => {
    setTimeout(resolve, ms)
  })
}

describe('port-forward on SIGINT', () => {
  const payload = randomPayload(8 * MiB)
  const half = payload.length / 2
  let agent: TestAgent
  let target: Target
  let release: (() => void) | undefined
  let cli: RunningCli | undefined
  let client: Socket | undefined

  before(async () => {
    agent = await TestAgent.start()
    // Sends the first half at once and the rest only when the test says so, so the transfer
    // is certainly in flight when the signal arrives.
    target = await startTarget((socket) => {
      socket.resume()
      socket.write(payload.subarray(0, half))
      release = () => socket.end(payload.subarray(half))
    })
  })

  afterEach(async () => {
    client?.destroy()
    client = undefined
    release = undefined
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([agent.close(), target.close()])
  })

  it('lets a transfer in flight finish intact, then exits 0', async () => {
    cli = new RunningCli(['port-forward', 'shop/files', `0:${target.port}`,
      '--node', agent.address])
    const [port] = await cli.ready()
    client = await dial(port)
    const transfer = download(client, half)
    await transfer.halfway

    cli.signal('SIGINT')
    await cli.waitFor(/Stopping: waiting for 1 connection to finish/)
    release!()

    assert.equal(await transfer.ended, 'end')
    assert.equal(transfer.received, payload.length)
    assert.equal(transfer.hash(), sha256(payload))
    assert.deepEqual(await cli.exited, {code: 0, signal: null}, cli.stderr)
    assert.match(cli.stderr, /\nStopped\n/)
  })

  it('cuts the open connection at a second SIGINT and exits 6', async () => {
    cli = new RunningCli(['port-forward', 'shop/files', `0:${target.port}`,
      '--node', agent.address])
    const [port] = await cli.ready()
    client = await dial(port)
    const transfer = download(client, half)
    await transfer.halfway

    const firstAt = Date.now()
    cli.signal('SIGINT')
    await cli.waitFor(/Stopping: waiting for 1 connection to finish/)
    await sleep(SECOND_SIGNAL_AFTER_MS - (Date.now() - firstAt))
    cli.signal('SIGINT')

    // The target never sends the rest, so only the cut can end either of these.
    assert.deepEqual(await cli.exited, {code: 6, signal: null}, cli.stderr)
    // A reset, not the orderly end a finished transfer gets.
    assert.equal(await transfer.ended, 'error')
    assert.ok(transfer.received < payload.length, `all ${transfer.received} bytes arrived`)
    assert.match(cli.stderr, /Stopped; closed 1 open connection/)
  })
})
