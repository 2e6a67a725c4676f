import type {Config} from '@oclif/core'
import type {Hook, Hooks} from '@oclif/core/hooks'

/**
 * What a host CLI answers to `caractrl:control-plane`: where its control plane is and how the
 * logged-in user authenticates. Every member but `url` may be left out.
 */
export type ControlPlaneAnswer = {
  /** Base URL of the control plane, `http:` or `https:`. */
  url: string
  /** Bearer token; sent to the control plane only. */
  token?: string
  /** Extra headers for control-plane requests only. */
  headers?: Record<string, string>
  /** PEM certificate authority for an `https:` control plane. */
  ca?: string
  /** Skip certificate checks; the user is warned. */
  insecureSkipTlsVerify?: boolean
}

/** Options the plugin passes with `caractrl:control-plane`; none today. */
export type ControlPlaneHookOptions = Record<string, never>

/** The hook events this plugin raises, for host CLIs that answer them. */
export type PortForwardHooks = Hooks & {
  'caractrl:control-plane': {options: ControlPlaneHookOptions; return: ControlPlaneAnswer | undefined}
}

/** A host-side handler of `caractrl:control-plane`. */
export type ControlPlaneHook = Hook<'caractrl:control-plane', PortForwardHooks>

/** An answer together with the plugin that gave it. */
export interface HookAnswer<T> {
  plugin: string
  isRoot: boolean
  answer: T
}

/** A handler threw or gave an answer that cannot be used. */
export class HookFailure extends Error {
  readonly plugin: string

  constructor(plugin: string, message: string) {
    super(message)
    this.name = 'HookFailure'
    this.plugin = plugin
  }
}

/** How long a host's handler may take before the command gives up on it. */
const HOOK_TIMEOUT_MS = 10_000

/**
 * Runs one hook event across all plugins and returns every non-empty answer, the host CLI's
 * own first, then the others by plugin name, so the order never depends on which handler
 * finished first. A handler that failed is never skipped silently: it throws.
 */
export async function collectAnswers<T>(
  config: Config, event: keyof PortForwardHooks & string, options: object,
): Promise<Array<HookAnswer<T>>> {
  const run = config.runHook as unknown as (
    event: string, options: object, timeout: number, captureErrors: boolean,
  ) => Promise<{
    failures: Array<{error: Error; plugin: {name: string}}>
    successes: Array<{plugin: {isRoot?: boolean; name: string}; result: unknown}>
  }>
  const {failures, successes} = await run.call(config, event, options, HOOK_TIMEOUT_MS, true)

  const [failure] = failures
  if (failure) {
    throw new HookFailure(failure.plugin.name, failure.error?.message || String(failure.error))
  }

  return successes
    .filter(({result}) => result !== undefined && result !== null)
    .map(({plugin, result}) => ({answer: result as T, isRoot: Boolean(plugin.isRoot), plugin: plugin.name}))
    .sort((a, b) => Number(b.isRoot) - Number(a.isRoot) || a.plugin.localeCompare(b.plugin))
}
