import type {Config} from '@oclif/core'

import type {PortForwardHooks} from './port-forward-hooks.js'

/** An answer together with the plugin that gave it. */
export interface HookAnswer<T> {
  plugin: string
  isRoot: boolean
  answer: T
}

/** A handler threw or gave an answer that cannot be used. */
export class HookFailure extends Error {
  readonly plugin: string
  /** The handler did not answer within the time it was given. */
  readonly timedOut: boolean

  constructor(plugin: string, message: string, timedOut = false) {
    super(message)
    this.name = 'HookFailure'
    this.plugin = plugin
    this.timedOut = timedOut
  }
}

/** How long a host's handler may take before the command gives up on it. */
export const HOOK_TIMEOUT_MS = 10_000

// What oclif's runHook rejects a handler with when its timeout passes.
const OCLIF_TIMEOUT = /^Timed out after \d+ ms\.?$/

type RunHook = (
  event: string, options: object, timeout: number, captureErrors: boolean,
) => Promise<{
  failures: Array<{error: Error; plugin: {name: string}}>
  successes: Array<{plugin: {isRoot?: boolean; name: string}; result: unknown}>
}>

/**
 * Runs one hook event across all plugins and returns every non-empty answer, the host CLI's
 * own first, then the others by plugin name, so the order never depends on which handler
 * finished first. A handler that failed is never skipped silently: it throws.
 */
export async function collectAnswers<T>(
  config: Config, event: keyof PortForwardHooks & string, options: object,
  timeoutMs = HOOK_TIMEOUT_MS,
): Promise<Array<HookAnswer<T>>> {
  // Handlers may come from another copy of oclif, so results are read by their fields only.
  const run = config.runHook as unknown as RunHook
  const {failures, successes} = await run.call(config, event, options, timeoutMs, true)

  const [failure] = failures
  if (failure) {
    const message = (failure.error?.message || String(failure.error)).split('\n')[0]
    const timedOut = OCLIF_TIMEOUT.test(message)
    throw new HookFailure(failure.plugin.name, message, timedOut)
  }

  return successes
    .filter(({result}) => result !== undefined && result !== null)
    .map(({plugin, result}) => ({
      answer: result as T,
      isRoot: Boolean(plugin.isRoot),
      plugin: plugin.name,
    }))
    .sort((a, b) => Number(b.isRoot) - Number(a.isRoot) || compareNames(a.plugin, b.plugin))
}

/** Code-point order: unlike localeCompare, the same on every machine and locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
