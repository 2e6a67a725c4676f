import type {Socket} from 'node:net'

import {listenOverflows, rssBytes} from '../proc-stats.js'
import {closed, concurrentEchoes, dial, readBytes, sleep, withTimeout} from '../load.js'
import {Mode} from '../target-modes.js'
import type {Scenario} from './scenario.js'

const CONCURRENT = 1000
const ECHO_BYTES = 64 * 1024
const IDLE_WANTED = 10_000
/** Connections being opened at any one time while the idle tunnels are set up. */
const OPENING = 1000
/** How long the idle tunnels are held once all are open. */
const HOLD_MS = 500
/** Descriptors a relay process needs besides two per tunnel. */
const SPARE_FILES = 200

export const concurrentEcho: Scenario = {
  keys: ['direct', 'socat', 'cli-test', 'cli-go', 'go-client'],
  async measure(config) {
    const before = listenOverflows()
    const started = Date.now()
    const failures = await concurrentEchoes(config.port, CONCURRENT, ECHO_BYTES, 30_000)
    return {
      failures,
      overflows: listenOverflows() - before,
      seconds: (Date.now() - started) / 1000,
    }
  },
  name: 'concurrent',
  repetitions: 5,
  title: `${CONCURRENT} concurrent connections echoing 64 KiB`,
}

/**
 * Each tunnel holds two descriptors in the CLI and two in the agent, so a process's file
 * limit caps how many can be open at once.
 */
export function idleTunnelCount(fileLimit: number): number {
  return Math.min(IDLE_WANTED, Math.floor((fileLimit - SPARE_FILES) / 2))
}

export const idleTunnels: Scenario = {
  keys: ['direct', 'socat', 'cli-test', 'cli-go', 'go-client'],
  async measure(config, context) {
    const count = idleTunnelCount(context.fileLimit)
    const sockets: Socket[] = []
    let failures = 0
    let peakRss = 0
    const sample = setInterval(() => {
      if (config.pid) peakRss = Math.max(peakRss, rssBytes(config.pid))
    }, 100)

    // Spread over source addresses so that ephemeral ports never run short.
    const open = async (index: number): Promise<void> => {
      try {
        const socket = await dial(config.port, `127.0.0.${2 + (index % 100)}`)
        sockets.push(socket)
        socket.on('error', () => {})
        const echoed = readBytes(socket, 1)
        socket.write(Mode.echo)
        await withTimeout(echoed, 30_000)
      } catch {
        failures++
      }
    }

    const started = Date.now()
    let next = 0
    await Promise.all(Array.from({length: OPENING}, async () => {
      while (next < count) await open(next++)
    }))
    const openSeconds = (Date.now() - started) / 1000
    await sleep(HOLD_MS)
    failures += sockets.filter((socket) => socket.destroyed).length
    clearInterval(sample)
    if (config.pid) peakRss = Math.max(peakRss, rssBytes(config.pid))

    await Promise.all(sockets.map(closed))
    // The relay and the agent tear the tunnels down behind us, and the next configuration
    // needs their descriptors back.
    const closing = Date.now()
    while (context.targetConnections() > 10 && Date.now() - closing < 30_000) await sleep(100)
    const closeSeconds = (Date.now() - closing) / 1000
    await sleep(200)
    const figures = {closeSeconds, failures, openSeconds, tunnels: count}
    return config.pid ? {...figures, rssMiB: peakRss / 2 ** 20} : figures
  },
  name: 'idle',
  repetitions: 5,
  skipped: () => ({
    'cli-test': 'not run: the same CLI as in the Go agent column; left out to keep the ' +
      'scenario near 2 minutes',
    socat: 'not run: socat would fork a process per connection',
  }),
  title: 'concurrent idle tunnels, opened and held',
}
