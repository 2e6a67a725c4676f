import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {RunningCli} from '../support/cli.js'
import {LoadTracer} from '../support/load-tracer.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {echoThrough, sha256} from '../support/transfer.js'

const READY_MARK = 'ready line written'

describe('start-up', () => {
  let agent: TestAgent
  let target: Target
  let tracer: LoadTracer
  let cli: RunningCli | undefined

  before(async () => {
    agent = await TestAgent.start()
    target = await startTarget(echo)
    tracer = await LoadTracer.create({line: READY_MARK, when: 'Forwarding from'})
  })

  after(async () => {
    await cli?.kill()
    await Promise.all([agent.close(), target.close(), tracer.remove()])
  })

  it('confirms before it loads the WebSocket library or TLS, then loads ws at once', async () => {
    const log = join(tracer.dir, 'load.log')
    cli = new RunningCli(
      ['port-forward', 'shop/db', `0:${target.port}`, '--address', '127.0.0.1',
        '--node', agent.address],
      tracer.env(log),
    )
    const [port] = await cli.ready()

    // Not even waiting for a connection: the library is loaded as soon as the line is out.
    const isWs = (line: string) => /\/node_modules\/ws\//.test(line)
    const deadline = Date.now() + 10_000
    let lines: string[] = []
    while (!lines.some(isWs) && Date.now() < deadline) {
      await new Promise((resolve) => {
        setTimeout(resolve, 50)
      })
      lines = (await readFile(log, 'utf8')).split('\n')
    }

    const ready = lines.indexOf(READY_MARK)
    assert.ok(ready > 0, `no mark for the confirmation line in:\n${lines.join('\n')}`)
    const firstWs = lines.findIndex(isWs)
    assert.ok(firstWs > ready, `ws was loaded before the confirmation line:\n${lines.join('\n')}`)
    // Nor TLS, for an agent without it.
    assert.ok(!lines.slice(0, ready).includes('node:https'), `TLS was loaded:\n${lines.join('\n')}`)

    const payload = Buffer.from('first connection')
    assert.equal(await echoThrough(port, payload), sha256(payload))
  })
})
