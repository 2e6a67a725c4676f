import {rssBytes} from '../proc-stats.js'
import {closed, dial, readSlowly, sendFlatOut, sleep} from '../load.js'
import {header, Mode} from '../target-modes.js'
import type {Scenario} from './scenario.js'

const DURATION_MS = 20_000
const SAMPLE_MS = 100

let nextFlood = 1

/**
 * Both directions at once: the load generator sends flat out to a target that reads at
 * 1 MiB/s, and the target floods a load generator that reads at 1 MiB/s. Whatever is in
 * neither sender nor reader is in flight: in kernel buffers or in the relay.
 */
export const slowReader: Scenario = {
  keys: ['direct', 'socat', 'cli-test', 'cli-go', 'go-client'],
  async measure(config, context) {
    const rssBefore = config.pid ? rssBytes(config.pid) : 0
    const id = nextFlood++

    const up = await dial(config.port)
    up.write(Mode.slowSink)
    let acknowledged = 0
    let reports = Buffer.alloc(0)
    up.on('data', (chunk: Buffer) => {
      reports = Buffer.concat([reports, chunk])
      const whole = reports.length - (reports.length % 8)
      if (whole > 0) acknowledged = Number(reports.readBigUInt64BE(whole - 8))
      reports = reports.subarray(whole)
    })
    const sender = sendFlatOut(up)

    const down = await dial(config.port)
    down.write(header(Mode.flood, id))
    const reader = readSlowly(down)

    let peakRss = rssBefore
    let peakUp = 0
    let peakDown = 0
    let halfway = {down: 0, up: 0}
    const started = Date.now()
    while (Date.now() - started < DURATION_MS) {
      await sleep(SAMPLE_MS)
      if (config.pid) peakRss = Math.max(peakRss, rssBytes(config.pid))
      const inFlight = {
        down: context.floodWritten(id) - reader.received, up: sender.sent - acknowledged,
      }
      peakUp = Math.max(peakUp, inFlight.up)
      peakDown = Math.max(peakDown, inFlight.down)
      if (Date.now() - started < DURATION_MS / 2) halfway = inFlight
    }

    const ending = {
      down: context.floodWritten(id) - reader.received, up: sender.sent - acknowledged,
    }
    sender.stop()
    reader.stop()
    await Promise.all([closed(up), closed(down)])
    const figures = {
      // Growth from the first to the second half shows whether buffering is bounded.
      growthDownMiB: (ending.down - halfway.down) / 2 ** 20,
      growthUpMiB: (ending.up - halfway.up) / 2 ** 20,
      inFlightDownMiB: peakDown / 2 ** 20,
      inFlightUpMiB: peakUp / 2 ** 20,
      readDownMiB: reader.received / 2 ** 20,
      readUpMiB: acknowledged / 2 ** 20,
    }
    return config.pid ? {...figures, rssGrowthMiB: (peakRss - rssBefore) / 2 ** 20} : figures
  },
  name: 'slow-reader',
  repetitions: 5,
  title: 'slow reader at 1 MiB/s for 20 s, both directions, sender flat out',
  together: true,
}
