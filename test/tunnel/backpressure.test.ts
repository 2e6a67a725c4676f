import assert from 'node:assert/strict'

import type {RunningCli} from '../support/cli.js'
import {forwardTo} from '../support/forward.js'
import {IN_FLIGHT_BOUND} from '../support/in-flight.js'
import {hasProc, residentBytes} from '../support/process-stats.js'
import {SlowReaderService, type Direction} from '../support/slow-reader.js'
import {TestAgent} from '../support/test-agent.js'

const MiB = 1024 * 1024

/**
 * How far the CLI's resident memory may rise over its baseline while a fast sender feeds a
 * slow reader. One connection holds about 1 MiB towards the agent and a socket buffer
 * towards the client; the rest is room for the garbage collector's timing.
 */
const RSS_GROWTH_BOUND = 16 * MiB

const RUN_MS = 20_000

describe('tunnel memory stays bounded with a slow reader', function () {
  this.timeout(120_000)
  let agent: TestAgent
  let service: SlowReaderService
  let cli: RunningCli
  let port: number

  before(async function () {
    if (!hasProc()) {
      if (process.env.CI === 'true') throw new Error('these tests read /proc, which is missing')
      console.warn('      skipped: these tests read /proc/PID/status, which this system lacks')
      this.skip()
    }

    agent = await TestAgent.start()
    service = await SlowReaderService.start()
    ;({cli, port} = await forwardTo(agent.address, service.port))

    // The baseline is a CLI that has carried traffic both ways, so that it counts the heap
    // and allocator pools any busy tunnel has, and only growth beyond that shows.
    for (const direction of ['upload', 'download'] as const) {
      await service.run(port,
        {bytesPerSecond: 1024 * MiB, capBytes: 1024 * MiB, direction, durationMs: 2000})
    }
  })

  after(async () => {
    await cli?.kill()
    await Promise.all([agent?.close(), service?.close()])
  })

  for (const direction of ['upload', 'download'] satisfies Direction[]) {
    it(`holds RSS within baseline + 16 MiB for a 1 MiB/s reader (${direction})`, async () => {
      const pid = cli.child.pid!
      const baseline = residentBytes(pid)
      let peak = baseline
      const run = await service.run(port, {
        bytesPerSecond: MiB,
        capBytes: 1024 * MiB,
        direction,
        durationMs: RUN_MS,
        onSample() {
          peak = Math.max(peak, residentBytes(pid))
        },
      })

      console.log(`      ${direction}: RSS ${mib(baseline)} -> peak ${mib(peak)} MiB; ` +
        `sent ${mib(run.sent)} MiB, read ${mib(run.received)} MiB, ` +
        `in flight at most ${mib(run.maxInFlight)} MiB`)
      assert.ok(run.received > 0, 'the reader got nothing')
      assert.ok(peak - baseline <= RSS_GROWTH_BOUND, `RSS grew by ${mib(peak - baseline)} MiB`)
      assert.ok(run.maxInFlight <= IN_FLIGHT_BOUND, `${mib(run.maxInFlight)} MiB were in flight`)
    })
  }
})

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1)
}
