import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'

import type {RunningCli} from '../support/cli.js'
import {failureLines, forwardTo} from '../support/forward.js'
import {referenceBinaries} from '../support/reference.js'
import {answerLine, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {dial, readAll, sha256} from '../support/transfer.js'

const MiB = 1024 * 1024

/** Sends one line and reads to the end; resolves with the reply and ms from line to EOF. */
async function ask(
  port: number, line: string, halfClose = false,
): Promise<{reply: Buffer; ms: number}> {
  const socket = await dial(port)
  const reply = readAll(socket)
  const sentAt = Date.now()
  if (halfClose) socket.end(line)
  else socket.write(line)
  const bytes = await reply
  socket.destroy()
  return {ms: Date.now() - sentAt, reply: bytes}
}

describe('tunnel ends streams the way the agent ended them', () => {
  const big = 'x'.repeat(4 * MiB)
  let target: Target
  let cli: RunningCli | undefined
  let agent: TestAgent | undefined

  before(async () => {
    target = await startTarget(answerLine((line) => (line === 'big' ? big : `hello ${line}\n`)))
  })

  afterEach(async () => {
    await cli?.kill()
    await agent?.close()
    cli = undefined
    agent = undefined
  })

  after(async () => {
    await target.close()
  })

  it('delivers a reply and then EOF within a second when the target closes', async () => {
    agent = await TestAgent.start()
    const forward = await forwardTo(agent.address, target.port)
    cli = forward.cli

    const {ms, reply} = await ask(forward.port, 'ada\n')
    assert.equal(reply.toString(), 'hello ada\n')
    assert.ok(ms < 1000, `EOF came ${ms} ms after the request`)
    assert.deepEqual(failureLines(cli), [])
  })

  it('gives a client that half-closes after its request the full reply', async () => {
    agent = await TestAgent.start()
    const forward = await forwardTo(agent.address, target.port)
    cli = forward.cli

    const {reply} = await ask(forward.port, 'big\n', true)
    assert.equal(reply.length, big.length)
    assert.equal(sha256(reply), sha256(Buffer.from(big)))
    assert.deepEqual(failureLines(cli), [])
  })

  it('passes on an agent that closes without a close frame as a clean EOF', async () => {
    agent = await TestAgent.start({bareClose: true})
    const forward = await forwardTo(agent.address, target.port)
    cli = forward.cli

    const {reply} = await ask(forward.port, 'big\n')
    assert.equal(sha256(reply), sha256(Buffer.from(big)))
    assert.deepEqual(failureLines(cli), [])
  })

  describe('with the Go reference agent', () => {
    let reference: ChildProcess | undefined

    afterEach(async () => {
      if (reference && reference.exitCode === null) {
        reference.kill()
        await once(reference, 'exit')
      }
    })

    it('delivers the whole reply and a clean EOF when the target closes', async function () {
      const binaries = await referenceBinaries()
      if (typeof binaries === 'string') {
        console.warn(`      skipped: ${binaries}`)
        this.skip()
      }

      const probe = await TestAgent.start()
      const address = probe.address
      await probe.close()
      reference = spawn(binaries.agent, ['-listen', address], {stdio: ['ignore', 'ignore', 'pipe']})
      await once(reference.stderr!, 'data')
      const forward = await forwardTo(address, target.port)
      cli = forward.cli

      const {reply} = await ask(forward.port, 'big\n')
      assert.equal(sha256(reply), sha256(Buffer.from(big)))
      assert.deepEqual(failureLines(cli), [])
    })
  })
})
