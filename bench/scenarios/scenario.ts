import type {ConfigKey, Configuration, Setup} from '../configurations.js'

/** Named figures from one repetition of a scenario on one configuration. */
export type Measurement = Record<string, number>

/** What a scenario can reach besides its configuration. */
export interface Context {
  setup: Setup
  /** Bytes the target's flood with this id has handed to the kernel so far. */
  floodWritten(id: number): number
  /** Connections the target has open, as it last reported. */
  targetConnections(): number
  /** Descriptors this run may hold per process. */
  fileLimit: number
}

/** One row group of the table: a workload, repeated on each configuration. */
export interface Scenario {
  name: string
  /** What the workload is, for the table. */
  title: string
  keys: ConfigKey[]
  /** Runs every configuration at the same time in each repetition. */
  together?: boolean
  repetitions: number
  /** Configurations it cannot run on here, and why; they appear in the table as such. */
  skipped?(context: Context): Partial<Record<ConfigKey, string>>
  measure(config: Configuration, context: Context, repetition: number): Promise<Measurement>
}

/** How one figure of a scenario is shown. */
export interface Figure {
  scenario: string
  metric: string
  label: string
  digits: number
}
