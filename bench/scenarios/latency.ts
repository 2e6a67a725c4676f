import {childrenSettled, cpuSeconds} from '../proc-stats.js'
import {newConnections, roundTrips} from '../load.js'
import {percentile} from '../stats.js'
import type {Scenario} from './scenario.js'

const ROUND_TRIPS = 2000
const CONNECTIONS = 1000

export const oneByteRoundTrips: Scenario = {
  keys: ['direct', 'socat', 'cli-test', 'cli-go', 'go-client'],
  async measure(config) {
    const times = await roundTrips(config.port, ROUND_TRIPS)
    return {p50: percentile(times, 50), p99: percentile(times, 99)}
  },
  name: 'round-trips',
  repetitions: 5,
  title: `${ROUND_TRIPS} one-byte round trips, one connection (µs)`,
}

export const sequentialConnections: Scenario = {
  keys: ['direct', 'socat', 'cli-test', 'cli-go', 'go-client'],
  async measure(config) {
    const before = config.pid ? cpuSeconds(config.pid) : 0
    const times = await newConnections(config.port, CONNECTIONS)
    const figures = {p50: percentile(times, 50), p99: percentile(times, 99)}
    if (!config.pid) return figures

    await childrenSettled(config.pid)
    return {...figures, cpuPerConnection: ((cpuSeconds(config.pid) - before) / CONNECTIONS) * 1e6}
  },
  name: 'new-connections',
  repetitions: 5,
  title: `${CONNECTIONS} sequential new connections, time to first byte (µs)`,
}
