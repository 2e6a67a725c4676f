import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import type {Socket} from 'node:net'

import type {RunningCli} from '../support/cli.js'
import {failureLines, forwardTo} from '../support/forward.js'
import {startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {dial, randomPayload, sha256} from '../support/transfer.js'

const MiB = 1024 * 1024

/** The exit status for a stop that had to cut connections (ExitCode.Forced). */
const FORCED = 6

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) {
    await new Promise((resolve) => {
      setTimeout(resolve, 20)
    })
  }
}

describe('tunnel drains on a stop signal', () => {
  let agent: TestAgent
  let target: Target
  let cli: RunningCli | undefined
  const accepted: Socket[] = []

  before(async () => {
    agent = await TestAgent.start()
    // The test itself plays the service, so it decides when the transfer ends.
    target = await startTarget((socket) => {
      accepted.push(socket)
    })
  })

  after(async () => {
    await cli?.kill()
    await Promise.all([agent.close(), target.close()])
  })

  it('refuses new connects, finishes a transfer, ' +
    'then cuts what --drain-timeout leaves', async () => {
    const forward = await forwardTo(agent.address, target.port, ['--drain-timeout', '2s'])
    cli = forward.cli

    const idle = await dial(forward.port)
    const idleClosed = new Promise((resolve) => {
      idle.on('error', () => {}).on('close', resolve)
    })
    await until(() => accepted.length === 1)

    const transfer = await dial(forward.port)
    const hash = createHash('sha256')
    let received = 0
    transfer.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      received += chunk.length
    })
    const ended = new Promise((resolve, reject) => {
      transfer.on('end', resolve).on('error', reject)
    })
    await until(() => accepted.length === 2)
    const service = accepted[1]
    const payload = randomPayload(8 * MiB)
    service.write(payload.subarray(0, 4 * MiB))
    await until(() => received >= MiB)

    cli.signal('SIGINT')
    await cli.waitFor(/Stopping: waiting for 2 connections to finish \(at most 2s\)/)
    await assert.rejects(dial(forward.port), {code: 'ECONNREFUSED'})

    service.end(payload.subarray(4 * MiB))
    await ended
    assert.equal(received, payload.length)
    assert.equal(hash.digest('hex'), sha256(payload))

    const exit = await cli.exited
    await idleClosed
    assert.equal(exit.code, FORCED)
    assert.deepEqual(failureLines(cli).map((line) => line.replace(/^Connection #\d+ /, '')), [
      '-> shop/db:' + target.port + ' failed: still open after the 2s drain timeout',
    ])
  })
})
