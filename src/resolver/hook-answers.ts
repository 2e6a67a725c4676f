import type {Config} from '@oclif/core'

import {ControlPlaneError} from '../errors/index.js'
import {
  collectAnswers, HOOK_TIMEOUT_MS, HookFailure, type HookAnswer,
} from '../hooks/collect-answers.js'
import type {
  PortForwardHooks, ResolveAgentAnswer, ResolveAgentHookOptions,
} from '../hooks/port-forward-hooks.js'
import {redactUrls} from '../redact/redact-url.js'
import {areHeaders, unusableAnswer} from './answer-checks.js'
import {showSeconds, type ResolveBudget} from './resolve-budget.js'

/**
 * Every answer to a hook event, in the order of `collectAnswers`. A handler that fails or
 * takes too long stops the command with the handler's own message. Handlers run inside the
 * resolution's budget: one may take 10 s at most, and never longer than what is left of it.
 */
export async function hookAnswers(
  config: Config, event: keyof PortForwardHooks & string, options: object, budget?: ResolveBudget,
): Promise<Array<HookAnswer<unknown>>> {
  const left = budget?.remainingMs() ?? HOOK_TIMEOUT_MS
  const timeoutMs = Math.max(1, Math.min(HOOK_TIMEOUT_MS, left))
  try {
    return await collectAnswers(config, event, options, timeoutMs)
  } catch (error) {
    if (!(error instanceof HookFailure)) throw error
    if (error.timedOut) {
      const limit = timeoutMs < HOOK_TIMEOUT_MS ?
        `what was left of the ${showSeconds(budget!.totalMs)} --resolve-timeout` :
        'the longest a handler may take'
      throw new ControlPlaneError('hook-timeout',
        `the ${event} hook of ${error.plugin} did not answer within ${showSeconds(timeoutMs)}, ` +
        `${limit}: check that plugin, or pass --server or --node`)
    }

    // A host's message may quote its own settings; no secret of theirs is printed either.
    throw new ControlPlaneError('hook-failed',
      `${redactUrls(error.message)} (from the ${event} hook of ${error.plugin})`)
  }
}

/**
 * Asks `caractrl:resolve-agent` about each remote port. Ports without an answer are left to
 * the built-in resolution.
 */
export async function routedPorts(
  config: Config, ports: number[], options: Omit<ResolveAgentHookOptions, 'port'>,
  budget?: ResolveBudget,
): Promise<{routed: Map<number, ResolveAgentAnswer>; warnings: string[]}> {
  const routed = new Map<number, ResolveAgentAnswer>()
  const warnings: string[] = []
  const unique = [...new Set(ports)]
  const answers = await Promise.all(unique.map((port) =>
    hookAnswers(config, 'caractrl:resolve-agent', {...options, port}, budget)))

  for (const [index, port] of unique.entries()) {
    const [chosen, ...others] = answers[index].map((answer) => checkAgentAnswer(answer))
    if (!chosen) continue

    routed.set(port, chosen.answer)
    const differing = others.find((other) => other.answer.url !== chosen.answer.url)
    if (differing) {
      warnings.push(
        `plugins ${chosen.plugin} and ${differing.plugin} both answer caractrl:resolve-agent ` +
        `for port ${port} with different agents; using ${chosen.plugin}'s`,
      )
    }
  }

  return {routed, warnings}
}

function checkAgentAnswer(entry: HookAnswer<unknown>): HookAnswer<ResolveAgentAnswer> {
  const answer = entry.answer as Partial<ResolveAgentAnswer>
  const bad = unusableAnswer('caractrl:resolve-agent', entry.plugin, 'pass --node host:port')
  if (typeof answer !== 'object' || typeof answer.url !== 'string') throw bad('without a url')

  let url: URL | undefined
  try {
    url = new URL(answer.url)
  } catch {}

  if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:')) {
    throw bad('with a url that is not ws:// or wss://')
  }

  // The WebSocket client refuses such a URL only when it dials, far from this message.
  if (url.hash) throw bad('with a url that has a #fragment')

  if (!areHeaders(answer.headers)) throw bad('headers that are not strings')

  return entry as HookAnswer<ResolveAgentAnswer>
}
