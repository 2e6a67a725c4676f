import type {ConfigKey} from './configurations.js'
import {summary, type ScenarioResult} from './report.js'

/** One goal, what was measured against it, and whether it holds. */
export interface TargetResult {
  goal: string
  measured: string
  met: boolean | undefined
}

type Figure = (scenario: string, metric: string, key: ConfigKey, worst?: boolean) => number

const CLIS: ConfigKey[] = ['cli-test', 'cli-go']

/** Checks the figures of a run against the goals; ratios are within the same run. */
export function checkTargets(results: ScenarioResult[]): TargetResult[] {
  const figure: Figure = (scenario, metric, key, worst) => summary(
    results.find((each) => each.name === scenario)?.cells[key], metric, worst ? 'worst' : 'median')
  const out: TargetResult[] = []

  for (const direction of ['upload', 'download']) {
    const socat = figure(direction, 'cpuPerGiB', 'socat')
    for (const key of CLIS) {
      const cpu = figure(direction, 'cpuPerGiB', key)
      out.push(ratio(`${key} CPU per GiB ${direction} ≤ 1.3 × socat`, cpu, socat, 1.3))
    }
  }

  const goRows: Array<[string, string, string]> = [
    ['new connection p50 (setup)', 'new-connections', 'p50'],
    ['one-byte round trip p50', 'round-trips', 'p50'],
    ['CPU per new connection', 'new-connections', 'cpuPerConnection'],
  ]
  for (const [what, scenario, metric] of goRows) {
    out.push(ratio(`cli-go ${what} ≤ 1.0 × Go client`, figure(scenario, metric, 'cli-go'),
      figure(scenario, metric, 'go-client'), 1))
  }

  for (const key of CLIS) {
    const rss = figure('slow-reader', 'rssGrowthMiB', key)
    out.push(limit(`${key} slow-reader RSS growth ≤ 16 MiB`, rss, 16, 'MiB'))
    const growth = Math.max(
      figure('slow-reader', 'growthUpMiB', key), figure('slow-reader', 'growthDownMiB', key))
    out.push(limit(`${key} bytes in flight bounded (2nd-half growth ≤ 1 MiB)`, growth, 1, 'MiB'))
    const failures = figure('concurrent', 'failures', key, true)
    out.push(limit(`${key} 1000 concurrent: 0 failures`, failures, 0, ''))
    const overflows = figure('concurrent', 'overflows', key, true)
    out.push(limit(`${key} 1000 concurrent: 0 listen overflows`, overflows, 0, ''))
  }

  // The idle scenario runs the CLI against the Go agent only, to fit in its time.
  const tunnels = figure('idle', 'tunnels', 'cli-go')
  out.push({
    goal: 'cli-go idle tunnels: 10,000 open at once',
    measured: Number.isNaN(tunnels) ? '—' : tunnels.toLocaleString('en-US'),
    met: Number.isNaN(tunnels) ? undefined : tunnels >= 10_000,
  })
  const idleFailures = figure('idle', 'failures', 'cli-go', true)
  out.push(limit('cli-go idle tunnels: 0 failures', idleFailures, 0, ''))
  const idleRss = figure('idle', 'rssMiB', 'cli-go')
  out.push(limit('cli-go idle tunnels: RSS ≤ 400 MiB', idleRss, 400, 'MiB'))

  const startMs = figure('start-up', 'ms', 'cli-test')
  const start = limit('start to confirmation line: median ≤ 250 ms', startMs, 250, 'ms')
  const bare = figure('start-up', 'ms', 'direct')
  if (!Number.isNaN(bare)) start.measured += ` (bare node: ${bare.toFixed(0)} ms)`
  out.push(start)
  return out
}

/** The goals as a markdown table. */
export function targetTable(targets: TargetResult[]): string {
  const lines = ['| goal | measured | met |', '| --- | ---: | :---: |']
  for (const {goal, measured, met} of targets) {
    const verdict = met === undefined ? 'not measured' : met ? 'yes' : 'no'
    lines.push(`| ${goal} | ${measured} | ${verdict} |`)
  }

  return lines.join('\n')
}

function ratio(goal: string, value: number, base: number, most: number): TargetResult {
  const result = value / base
  if (!Number.isFinite(result)) return {goal, measured: '—', met: undefined}
  return {goal, measured: `${result.toFixed(2)} ×`, met: result <= most}
}

function limit(goal: string, value: number, most: number, unit: string): TargetResult {
  if (Number.isNaN(value)) return {goal, measured: '—', met: undefined}
  const shown = `${value.toFixed(unit === '' ? 0 : 1)}${unit ? ` ${unit}` : ''}`
  return {goal, measured: shown, met: value <= most}
}
