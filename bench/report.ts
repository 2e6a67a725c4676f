import {CONFIG_KEYS, CONFIG_LABELS, type ConfigKey} from './configurations.js'
import {median} from './stats.js'
import type {Measurement} from './scenarios/scenario.js'

/** Every repetition of one scenario on one configuration, or why there is none. */
export interface Cell {
  samples: Measurement[]
  errors: string[]
  notRun?: string
}

export interface ScenarioResult {
  name: string
  title: string
  seconds: number
  cells: Partial<Record<ConfigKey, Cell>>
}

/** How a figure is summed up over repetitions: failures count in the worst one. */
type Summary = 'median' | 'worst'

interface Row {
  scenario: string
  metric: string
  label: string
  digits: number
  summary?: Summary
}

const ROWS: Row[] = [
  {digits: 0, label: 'MB/s', metric: 'mbPerSecond', scenario: 'upload'},
  {digits: 2, label: 'relay CPU s/GiB', metric: 'cpuPerGiB', scenario: 'upload'},
  {digits: 0, label: 'MB/s', metric: 'mbPerSecond', scenario: 'download'},
  {digits: 2, label: 'relay CPU s/GiB', metric: 'cpuPerGiB', scenario: 'download'},
  {digits: 0, label: 'p50 µs', metric: 'p50', scenario: 'round-trips'},
  {digits: 0, label: 'p99 µs', metric: 'p99', scenario: 'round-trips'},
  {digits: 0, label: 'p50 µs', metric: 'p50', scenario: 'new-connections'},
  {digits: 0, label: 'p99 µs', metric: 'p99', scenario: 'new-connections'},
  {
    digits: 0, label: 'relay CPU µs/connection', metric: 'cpuPerConnection',
    scenario: 'new-connections',
  },
  {
    digits: 0, label: 'failures (worst run)', metric: 'failures', scenario: 'concurrent',
    summary: 'worst',
  },
  {
    digits: 0, label: 'listen overflows (worst run)', metric: 'overflows', scenario: 'concurrent',
    summary: 'worst',
  },
  {digits: 2, label: 'seconds', metric: 'seconds', scenario: 'concurrent'},
  {digits: 1, label: 'relay RSS growth MiB', metric: 'rssGrowthMiB', scenario: 'slow-reader'},
  {digits: 1, label: 'peak in flight up MiB', metric: 'inFlightUpMiB', scenario: 'slow-reader'},
  {digits: 1, label: 'peak in flight down MiB', metric: 'inFlightDownMiB', scenario: 'slow-reader'},
  {
    digits: 2, label: 'in-flight growth, 2nd half, up MiB', metric: 'growthUpMiB',
    scenario: 'slow-reader',
  },
  {
    digits: 2, label: 'in-flight growth, 2nd half, down MiB', metric: 'growthDownMiB',
    scenario: 'slow-reader',
  },
  {digits: 0, label: 'tunnels', metric: 'tunnels', scenario: 'idle'},
  {
    digits: 0, label: 'failures (worst run)', metric: 'failures', scenario: 'idle',
    summary: 'worst',
  },
  {digits: 0, label: 'relay RSS MiB', metric: 'rssMiB', scenario: 'idle'},
  {digits: 1, label: 'seconds to open all', metric: 'openSeconds', scenario: 'idle'},
  {digits: 0, label: 'median ms (20 starts)', metric: 'ms', scenario: 'start-up'},
]

/** A figure summed up over the repetitions of one cell; NaN when it was not measured. */
export function summary(cell: Cell | undefined, metric: string, how: Summary = 'median'): number {
  const values = (cell?.samples ?? []).map((sample) => sample[metric]).filter((value) =>
    value !== undefined && !Number.isNaN(value))
  if (values.length === 0) return Number.NaN
  return how === 'worst' ? Math.max(...values) : median(values)
}

/** Figures by configuration. */
type ByConfig = Partial<Record<ConfigKey, number>>

/** Medians of every row, by scenario, metric and configuration, for the JSON file. */
export function summaries(results: ScenarioResult[]): Record<string, Record<string, ByConfig>> {
  const out: Record<string, Record<string, ByConfig>> = {}
  for (const row of ROWS) {
    const result = results.find((each) => each.name === row.scenario)
    if (!result) continue

    const metrics = (out[row.scenario] ??= {})
    const byConfig: ByConfig = {}
    for (const key of CONFIG_KEYS) {
      const value = summary(result.cells[key], row.metric, row.summary)
      if (!Number.isNaN(value)) byConfig[key] = value
    }

    metrics[row.metric] = byConfig
  }

  return out
}

/** The results as one markdown table: a row per figure, a column per configuration. */
export function markdownTable(results: ScenarioResult[]): string {
  const lines = [
    `| scenario | figure | ${CONFIG_KEYS.map((key) => CONFIG_LABELS[key]).join(' | ')} |`,
    `| --- | --- | ${CONFIG_KEYS.map(() => '---:').join(' | ')} |`,
  ]
  const notes: string[] = []
  let previous = ''
  for (const row of ROWS) {
    const result = results.find((each) => each.name === row.scenario)
    if (!result) continue

    const cells = CONFIG_KEYS.map((key) => {
      const cell = result.cells[key]
      if (!cell) return ''
      if (cell.notRun) return footnote(notes, cell.notRun)
      const value = summary(cell, row.metric, row.summary)
      const failed = cell.errors.length > 0 ? ` ${footnote(notes, errorNote(cell))}` : ''
      return Number.isNaN(value) ? `—${failed}` : `${format(value, row.digits)}${failed}`
    })
    const title = previous === result.name ? '' : result.title
    lines.push(`| ${title} | ${row.label} | ${cells.join(' | ')} |`)
    previous = result.name
  }

  return [...lines, '', ...notes.map((note, index) => `${index + 1}. ${note}`)].join('\n')
}

function errorNote(cell: Cell): string {
  const runs = cell.errors.length + cell.samples.length
  return `${cell.errors.length} of ${runs} runs failed: ${cell.errors[0]}`
}

function footnote(notes: string[], text: string): string {
  let index = notes.indexOf(text)
  if (index === -1) index = notes.push(text) - 1
  return `(${index + 1})`
}

function format(value: number, digits: number): string {
  return value.toLocaleString('en-US', {
    maximumFractionDigits: digits, minimumFractionDigits: digits,
  })
}
