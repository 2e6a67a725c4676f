/**
 * Measures the forward against direct TCP, a plain socat relay and the Go reference client,
 * all in one run so that every ratio compares figures taken under the same machine load.
 * Prints a markdown table and writes the same figures to bench/results/latest.json.
 *
 * BENCH_ONLY=upload,download runs some scenarios only, BENCH_REPS=1 repeats each once (too few
 * for figures worth quoting), and BENCH_VERBOSE=1 prints every figure as it is taken.
 */
import {fork} from 'node:child_process'
import {readFileSync, mkdirSync, writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'

import {startConfigurations, firstLine, stopChild, type Configuration} from './configurations.js'
import {markdownTable, summaries, type Cell, type ScenarioResult} from './report.js'
import {bulkDownload, bulkUpload} from './scenarios/bulk.js'
import {concurrentEcho, idleTunnels} from './scenarios/concurrency.js'
import {oneByteRoundTrips, sequentialConnections} from './scenarios/latency.js'
import type {Context, Scenario} from './scenarios/scenario.js'
import {slowReader} from './scenarios/slow-reader.js'
import {startUp} from './scenarios/start-up.js'
import {rotate} from './stats.js'
import {checkTargets, targetTable} from './targets.js'

const SCENARIOS: Scenario[] = [
  bulkUpload, bulkDownload, oneByteRoundTrips, sequentialConnections, concurrentEcho,
  slowReader, idleTunnels, startUp,
]

const RESULTS = new URL('results/', import.meta.url)

const verbose = process.env.BENCH_VERBOSE === '1'
const only = process.env.BENCH_ONLY?.split(',')
const chosen = SCENARIOS.filter((scenario) => !only || only.includes(scenario.name))
const began = Date.now()

const target = fork(new URL('target-process.ts', import.meta.url), {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
})
const floods = new Map<number, number>()
let targetConnections = 0
target.on('message', (message: {id: number; written: number} | {connections: number}) => {
  if ('connections' in message) targetConnections = message.connections
  else floods.set(message.id, message.written)
})
const {port: targetPort} = JSON.parse(await firstLine(target)) as {port: number}

const setup = await startConfigurations(targetPort)
// An interrupted run still stops every relay and agent it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    setup.stop().finally(() => process.exit(130))
  })
}

const context: Context = {
  fileLimit: openFileLimit(),
  floodWritten: (id) => floods.get(id) ?? 0,
  targetConnections: () => targetConnections,
  setup,
}

const results: ScenarioResult[] = []
try {
  for (const scenario of chosen) results.push(await runScenario(scenario))
} finally {
  await setup.stop()
  await stopChild(target)
}

const table = markdownTable(results)
const targets = checkTargets(results)
const seconds = (Date.now() - began) / 1000
const network = process.env.BENCH_NETWORK === 'private' ?
  'Listen overflows were counted in a network namespace of the benchmark\'s own.' :
  'Listen overflows were counted for the whole machine (run as root for a namespace of ' +
  'the benchmark\'s own): other work here adds to them.'
console.log(`${table}\n\n${targetTable(targets)}\n\n${network}\nWhole run: ${seconds.toFixed(0)} s`)

mkdirSync(RESULTS, {recursive: true})
writeFileSync(new URL('latest.json', RESULTS), JSON.stringify({
  configurations: setup.configurations.map(({key, unavailable}) => ({key, unavailable})),
  date: new Date().toISOString(),
  fileLimit: context.fileLimit,
  machine: {cpus: cpus().length, loadAverage: loadavg(), node: process.version},
  network: process.env.BENCH_NETWORK ?? 'shared',
  medians: summaries(results),
  results,
  seconds,
  targets,
}, null, 2) + '\n')

async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const started = Date.now()
  const skipped = scenario.skipped?.(context) ?? {}
  const cells: ScenarioResult['cells'] = {}
  const runnable: Configuration[] = []
  for (const key of scenario.keys) {
    const config = setup.configurations.find((each) => each.key === key)!
    const notRun = config.unavailable ?? skipped[key]
    cells[key] = {errors: [], notRun, samples: []}
    if (!notRun) runnable.push(config)
  }

  const repetitions = Number(process.env.BENCH_REPS ?? scenario.repetitions)
  for (let repetition = 0; repetition < repetitions; repetition++) {
    const order = rotate(runnable, repetition)
    const measureOne = async (config: Configuration): Promise<void> => {
      const cell = cells[config.key] as Cell
      try {
        const sample = await scenario.measure(config, context, repetition)
        cell.samples.push(sample)
        if (verbose) console.error(scenario.name, repetition, config.key, JSON.stringify(sample))
      } catch (error) {
        cell.errors.push((error as Error).message.split('\n')[0])
      }
    }

    if (scenario.together) await Promise.all(order.map(measureOne))
    else for (const config of order) await measureOne(config)
  }

  const seconds = (Date.now() - started) / 1000
  console.error(`${scenario.name}: ${seconds.toFixed(1)} s`)
  return {cells, name: scenario.name, seconds, title: scenario.title}
}

/** The soft limit on open files this process, and the relays it starts, run under. */
function openFileLimit(): number {
  const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
  return match ? Number(match[1]) : 1024
}
