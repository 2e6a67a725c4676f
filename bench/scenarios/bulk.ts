import {childrenSettled, cpuSeconds} from '../proc-stats.js'
import {download, upload} from '../load.js'
import type {Configuration} from '../configurations.js'
import type {Measurement, Scenario} from './scenario.js'

const GIB = 1024 ** 3

/** Transfer speed and the relay's CPU per GiB, one direction. */
async function transfer(config: Configuration, move: (port: number, size: number) =>
Promise<number>): Promise<Measurement> {
  const before = config.pid ? cpuSeconds(config.pid) : 0
  const seconds = await move(config.port, GIB)
  if (!config.pid) return {mbPerSecond: GIB / 1e6 / seconds}

  await childrenSettled(config.pid)
  return {cpuPerGiB: cpuSeconds(config.pid) - before, mbPerSecond: GIB / 1e6 / seconds}
}

export const bulkUpload: Scenario = {
  keys: ['direct', 'socat', 'cli-test', 'cli-go', 'go-client'],
  measure: (config) => transfer(config, upload),
  name: 'upload',
  repetitions: 5,
  title: '1 GiB upload',
}

export const bulkDownload: Scenario = {
  keys: ['direct', 'socat', 'cli-test', 'cli-go', 'go-client'],
  measure: (config) => transfer(config, download),
  name: 'download',
  repetitions: 5,
  title: '1 GiB download',
}
