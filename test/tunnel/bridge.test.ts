import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:net'
import type {AddressInfo} from 'node:net'

import {forwardPath} from '../../src/protocol/forward-path.js'
import {Bridge} from '../../src/tunnel/bridge.js'
import {IN_FLIGHT_BOUND} from '../support/in-flight.js'
import {SlowReaderService, type Direction} from '../support/slow-reader.js'
import {TestAgent} from '../support/test-agent.js'

const MiB = 1024 * 1024

/** A listener that bridges each connection to the agent, the way the forwarder does. */
async function listenBridging(
  agent: TestAgent, remotePort: number, flowControl: boolean,
): Promise<Server> {
  const url = `ws://${agent.address}${forwardPath('shop', 'db', remotePort)}`
  let id = 0
  const server = createServer({allowHalfOpen: true, pauseOnConnect: true}, (socket) => {
    new Bridge({connectTimeoutMs: 10_000, flowControl, id: ++id, socket}).open({url})
  })
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return server
}

describe('Bridge flow control', function () {
  this.timeout(60_000)
  let agent: TestAgent
  let service: SlowReaderService
  const servers: Server[] = []

  before(async () => {
    agent = await TestAgent.start()
    service = await SlowReaderService.start()
  })

  after(async () => {
    for (const server of servers) server.close()
    await Promise.all([agent.close(), service.close()])
  })

  async function maxInFlight(direction: Direction, flowControl: boolean): Promise<number> {
    const server = await listenBridging(agent, service.port, flowControl)
    servers.push(server)
    const run = await service.run((server.address() as AddressInfo).port, {
      bytesPerSecond: MiB,
      capBytes: 512 * MiB,
      direction,
      // Without flow control the run stops as soon as the bound is passed; a loaded machine
      // may need a while to get there.
      durationMs: flowControl ? 3000 : 20_000,
      // Once past the bound the point is made; there is no need to fill memory further.
      onSample: (progress) => progress.sent - progress.received > 2 * IN_FLIGHT_BOUND,
    })
    return run.maxInFlight
  }

  for (const direction of ['upload', 'download'] satisfies Direction[]) {
    it(`keeps the bytes in flight to a slow reader bounded (${direction})`, async () => {
      const bytes = await maxInFlight(direction, true)
      assert.ok(bytes <= IN_FLIGHT_BOUND, `${(bytes / MiB).toFixed(1)} MiB in flight`)
    })

    it(`lets them grow past the bound without flow control, so the check can fail (${direction})`,
      async () => {
        const bytes = await maxInFlight(direction, false)
        assert.ok(bytes > IN_FLIGHT_BOUND, `only ${(bytes / MiB).toFixed(1)} MiB in flight`)
      })
  }
})
