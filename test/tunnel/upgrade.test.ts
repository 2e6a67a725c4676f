import assert from 'node:assert/strict'

import type {RunningCli} from '../support/cli.js'
import {forwardTo} from '../support/forward.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {echoThrough, randomPayload, sha256} from '../support/transfer.js'

describe('tunnel upgrade request', () => {
  let agent: TestAgent
  let target: Target
  let cli: RunningCli | undefined

  before(async () => {
    agent = await TestAgent.start()
    target = await startTarget(echo)
  })

  after(async () => {
    await cli?.kill()
    await Promise.all([agent.close(), target.close()])
  })

  it('offers no permessage-deflate, so bytes are carried as they are', async () => {
    const forward = await forwardTo(agent.address, target.port)
    cli = forward.cli
    const payload = randomPayload(1024)
    assert.equal(await echoThrough(forward.port, payload), sha256(payload))

    assert.equal(agent.requests.length, 1)
    const {headers} = agent.requests[0]
    assert.equal(headers.upgrade, 'websocket')
    assert.equal(headers['sec-websocket-extensions'], undefined)
  })
})
