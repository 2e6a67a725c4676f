import type {Config} from '@oclif/core'

import createDebug from 'debug'

import {formatHostPort, type AgentAddress} from '../args/node-address.js'
import type {Target} from '../args/target.js'
import {TargetError} from '../errors/index.js'
import type {EmitEvent} from '../events/forward-event.js'
import {describeProxy, ProxySettings} from '../proxy/proxy-settings.js'
import {redactUrl} from '../redact/redact-url.js'
import {checkAgentHealth, HEALTH_TIMEOUT_MS} from './agent-health.js'
import {AgentRoutes, type PlacedAgent} from './agent-routes.js'
import {
  controlPlaneConfig, controlPlaneSettings, tlsTrust, type ControlPlaneFlags,
} from './control-plane-config.js'
import {hookAnswers, routedPorts} from './hook-answers.js'
import {ResolveBudget} from './resolve-budget.js'
import {certificateAdvice, INSECURE_WARNING, type TlsTrust} from './tls-trust.js'

const debug = createDebug('caractrl:port-forward:agent-source')

/** The health check is a hint: even an exhausted budget leaves it this much. */
const MIN_HEALTH_TIMEOUT_MS = 200

export interface AgentSourceOptions {
  /** The host CLI's config, whose plugins answer the hooks. */
  config: Config
  target: Target
  /** Every remote port the forward reaches. */
  remotePorts: number[]
  /** `--node`: skips the control plane and both hooks. */
  node?: AgentAddress
  flags: ControlPlaneFlags
  /** Longest wait for one control-plane request. */
  requestTimeoutMs: number
  /** Longest start-up resolution in all: hooks, requests, retries and their pauses. */
  resolveTimeoutMs: number
  /** Longest wait for a Pending or Scheduled project, on top of `resolveTimeoutMs`. */
  runningTimeoutMs: number
  env: NodeJS.ProcessEnv
  emit: EmitEvent
}

/**
 * Finds out where the tunnels of a forward go, before anything listens: from `--node`, from
 * a `caractrl:resolve-agent` answer, or through the control plane named by the
 * `caractrl:control-plane` hook, flags and environment. The routes it returns give the
 * tunnel one endpoint per connection and follow the project when it moves.
 */
export async function openAgentSource(options: AgentSourceOptions): Promise<AgentRoutes> {
  const {emit, env, flags, node, target} = options
  const proxy = await ProxySettings.fromEnv(env)
  if (node) {
    const trust = tlsTrust(flags, env)
    if (!trust.rejectUnauthorized) emit({message: INSECURE_WARNING, type: 'warning'})
    await checkReachable(node, trust, emit, proxy)
    return new AgentRoutes({agent: node, emit, proxy, target, trust})
  }

  const budget = new ResolveBudget(options.resolveTimeoutMs)
  try {
    return await throughControlPlane(options, budget, proxy)
  } finally {
    budget.dispose()
  }
}

async function throughControlPlane(
  options: AgentSourceOptions, budget: ResolveBudget, proxy: ProxySettings,
): Promise<AgentRoutes> {
  const {emit, env, flags, target} = options
  const answers = await hookAnswers(options.config, 'caractrl:control-plane', {}, budget)
  const {config, warnings} = controlPlaneConfig({answers, env, flags})
  for (const message of warnings) emit({message, type: 'warning'})
  const via = proxy.choose(config.url)
  debug('control plane %s from %s, %s', redactUrl(config.url), config.source,
    via ? `through ${describeProxy(via)}` : 'without a proxy')

  const trust: TlsTrust = {
    ca: config.ca, caSource: config.caSource, rejectUnauthorized: !config.insecureSkipTlsVerify,
  }
  if (!trust.rejectUnauthorized) emit({message: INSECURE_WARNING, type: 'warning'})

  const hooked = await routedPorts(options.config, options.remotePorts, {
    controlPlane: controlPlaneSettings(config), project: target.project, service: target.service,
  }, budget)
  for (const message of hooked.warnings) emit({message, type: 'warning'})
  const {routed} = hooked
  if (options.remotePorts.every((port) => routed.has(port))) {
    debug('every port is routed by caractrl:resolve-agent')
    return new AgentRoutes({emit, proxy, routed, target, trust})
  }

  const [{ControlPlaneClient}, {resolveAgent}] = await Promise.all([
    import('./control-plane-client.js'),
    import('./resolve-agent.js'),
  ])
  const client = await ControlPlaneClient.create(config, {
    attemptTimeoutMs: options.requestTimeoutMs, proxy,
  })
  const place = async (runningTimeoutMs: number, within: ResolveBudget): Promise<PlacedAgent> => {
    const resolved = await resolveAgent(client, target, {budget: within, emit, runningTimeoutMs})
    for (const message of resolved.warnings) emit({message, type: 'warning'})
    debug('agent of %s/%s is %s:%d on node %s', target.project, target.service, resolved.host,
      resolved.port, resolved.node)
    return {host: resolved.host, node: resolved.node, port: resolved.port, scheme: 'ws:'}
  }

  // Following a move later gets a budget of its own, as long as the start-up one.
  const relocate = async () => {
    const again = new ResolveBudget(options.resolveTimeoutMs)
    try {
      return await place(0, again)
    } finally {
      again.dispose()
    }
  }

  const agent = await place(options.runningTimeoutMs, budget)
  await checkReachable(agent, trust, emit, proxy, budget)
  return new AgentRoutes({agent, emit, proxy, relocate, routed, target, trust})
}

/**
 * A quick look at the agent's `/healthz`. A node often reports an address that only the
 * cluster can reach, so silence is a warning; an untrusted certificate would fail every
 * tunnel the same way, so it fails here, where the message can say what to do.
 */
async function checkReachable(
  agent: AgentAddress | PlacedAgent, trust: TlsTrust, emit: EmitEvent, proxy: ProxySettings,
  budget?: ResolveBudget,
) {
  // What is left of the budget bounds the check too, but a moment is always allowed for it.
  const timeoutMs = budget ?
    Math.max(MIN_HEALTH_TIMEOUT_MS, Math.min(HEALTH_TIMEOUT_MS, budget.remainingMs())) :
    HEALTH_TIMEOUT_MS
  // The check goes the way the tunnels go, through the same proxy or none.
  const url = `${agent.scheme}//${formatHostPort(agent.host, agent.port)}/healthz`
  const result = await checkAgentHealth(
    agent, trust, timeoutMs, proxy.agentFor(url, {tunnel: true}),
  )
  if (result.ok) return

  const where = formatHostPort(agent.host, agent.port)
  if (result.certificate) {
    throw new TargetError(
      'agent-certificate',
      `cannot verify the certificate of the agent at ${agent.scheme}//${where} ` +
      `(${result.reason}): ${certificateAdvice(trust)}`,
    )
  }

  const message = 'node' in agent ?
    `node "${agent.node}" reports its agent at ${where}, which did not answer /healthz from ` +
    `here (${result.reason}): that address may not be reachable from this machine; ` +
    'if the node has another address, pass it with --node host:port' :
    `the agent at ${where} given with --node did not answer /healthz (${result.reason}): ` +
    'check the address; connections fail until it answers'
  emit({message, type: 'warning'})
}
