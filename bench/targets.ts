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
    out.push(limit(`${key} slow-reader RSS growth ≤ 16 MiB`, figure('slow-reader', 'rssGrowthMiB', key), 16, 'MiB'))
    const growth = Math.max(figure('slow-reader', 'growthUpMiB', key), figure('slow-reader', 'growthDownMiB', key))
    out.push(limit(`${key} bytes in flight bounded (2nd-half growth ≤ 1 MiB)`, growth, 1, 'MiB'))
    out.push(limit(`${key} 1000 concurrent: 0 failures`, figure('concurrent', 'failures', key, true), 0, ''))
    out.push(limit(`${key} 1000 concurrent: 0 listen overflows`, figure('concurrent', 'overflows', key, true), 0, ''))
    out.push(limit(`${key} idle tunnels: 0 failures`, figure('idle', 'failures', key, true), 0, ''))
    out.push(limit(`${key} idle tunnels: RSS ≤ 400 MiB`, figure('idle', 'rssMiB', key), 400, 'MiB'))
  }

  out.push(limit('start to confirmation line: median ≤ 250 ms', figure('start-up', 'ms', 'cli-test'), 250, 'ms'))
  return out
}

/** The goals as a markdown table. */
export function targetTable(targets: TargetResult[]): string {
  const lines = ['| goal | measured | met |', '| --- | ---: | :---: |']
  for (const {goal, measured, met} of targets) {
    lines.push(`| ${goal} | ${measured} | ${met === undefined ? 'not measured' : met ? 'yes' : 'no'} |`)
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
  return {goal, measured: `${value.toFixed(unit === '' ? 0 : 1)}${unit ? ` ${unit}` : ''}`, met: value <= most}
}
