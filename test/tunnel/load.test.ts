import assert from 'node:assert/strict'

import type {RunningCli} from '../support/cli.js'
import {failureLines, forwardTo} from '../support/forward.js'
import {hasProc, openDescriptors, settleTo} from '../support/process-stats.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {dial, echoThrough, randomPayload, sha256} from '../support/transfer.js'

const MiB = 1024 * 1024

/**
 * Echoes `payload` and aborts once `abortAt` bytes are back: with a reset, or with a plain
 * close that the tunnel first takes for a half-close. Resolves when the socket is gone.
 */
async function echoAndAbort(
  port: number, payload: Buffer, abortAt: number, reset: boolean,
): Promise<void> {
  const socket = await dial(port)
  socket.on('error', () => {})
  let received = 0
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length
    if (received < abortAt) return
    if (reset) socket.resetAndDestroy()
    else socket.destroy()
  })
  socket.write(payload)
  await new Promise((resolve) => {
    socket.once('close', resolve)
  })
}

describe('tunnel under load', function () {
  this.timeout(120_000)
  let agent: TestAgent
  let target: Target
  let cli: RunningCli
  let port: number

  before(async () => {
    agent = await TestAgent.start()
    target = await startTarget(echo)
    // Handshakes queue behind a thousand others on a busy machine; slowness is not at issue.
    ;({cli, port} = await forwardTo(agent.address, target.port, ['--connect-timeout', '60s']))
  })

  after(async () => {
    await cli?.kill()
    await Promise.all([agent?.close(), target?.close()])
  })

  it('survives 200 transfers with half aborted at random points, releasing every descriptor',
    async function () {
      if (!hasProc()) this.skip()
      const pid = cli.child.pid!
      const baseline = openDescriptors(pid)

      const payload = randomPayload(MiB)
      const expected = sha256(payload)
      const outcomes = await Promise.allSettled(Array.from({length: 200}, async (_, index) => {
        if (index % 2 === 0) return echoThrough(port, payload)
        const abortAt = Math.floor(Math.random() * payload.length)
        await echoAndAbort(port, payload, abortAt, index % 4 === 1)
        return 'aborted'
      }))

      const intact = outcomes.filter((outcome) =>
        outcome.status === 'fulfilled' && outcome.value === expected)
      assert.equal(intact.length, 100,
        `${100 - intact.length} whole transfers failed:\n${cli.stderr}`)
      for (let i = 0; i < 10; i++) {
        assert.equal(await echoThrough(port, payload), expected)
      }

      // A plain close looks like a half-close, which the tunnel holds open for a while.
      const settled = await settleTo(() => openDescriptors(pid), baseline, 30_000)
      console.log(`      descriptors: ${baseline} before, ${settled} after`)
      assert.ok(settled <= baseline, `${settled} descriptors open, ${baseline} before`)
      assert.equal(cli.child.exitCode, null)
    })

  it('carries 1000 concurrent echoes of 64 KiB, every byte intact', async () => {
    const before = failureLines(cli).length
    const payloads = Array.from({length: 1000}, () => randomPayload(64 * 1024))
    const outcomes = await Promise.allSettled(payloads.map((payload) => echoThrough(port, payload)))

    const failed = outcomes.filter((outcome, index) =>
      outcome.status === 'rejected' || outcome.value !== sha256(payloads[index]))
    assert.equal(failed.length, 0, `${failed.length} of 1000 failed:\n${cli.stderr}`)
    assert.equal(failureLines(cli).length, before)
  })
})

