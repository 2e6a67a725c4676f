import createDebug from 'debug'

import {formatHostPort, type AgentAddress} from '../args/node-address.js'
import type {Target} from '../args/target.js'
import type {EmitEvent} from '../events/forward-event.js'
import type {ResolveAgentAnswer} from '../hooks/port-forward-hooks.js'
import {forwardPath} from '../protocol/forward-path.js'
import {redactUrl} from '../redact/redact-url.js'
import type {AgentEndpoint} from '../tunnel/agent-endpoint.js'
import type {ProxySettings} from '../proxy/proxy-settings.js'
import type {DialFailure} from '../tunnel/dial-failure.js'
import type {TlsTrust} from './tls-trust.js'

const debug = createDebug('caractrl:port-forward:agent-routes')

/** At most one resolution through the control plane per this interval, however many fail. */
export const REFRESH_INTERVAL_MS = 2000

// Dial failures that say "nothing of that project is there (any more)".
const GONE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTDOWN', 'EHOSTUNREACH',
  'ENETUNREACH', 'ETIMEDOUT'])

/** An agent found through the control plane. */
export interface PlacedAgent extends AgentAddress {
  node: string
}

export interface AgentRoutesOptions {
  target: Target
  trust: TlsTrust
  emit: EmitEvent
  /** Ports a `caractrl:resolve-agent` answer routes; they are dialled as answered. */
  routed?: Map<number, ResolveAgentAnswer>
  /** The agent for every other port. */
  agent?: AgentAddress | PlacedAgent
  /** Asks the control plane again; given only when the agent came from it. */
  relocate?: () => Promise<PlacedAgent>
  /** Which tunnels go through a proxy; none when left out. */
  proxy?: ProxySettings
}

/**
 * Where each new connection goes. Routes from a hook and from `--node` are fixed; an agent
 * found through the control plane is followed when the project moves: a connection that
 * cannot reach it has the project looked up again, and is dialled once more at its new place.
 */
export class AgentRoutes {
  #options: AgentRoutesOptions
  #agent: AgentAddress | PlacedAgent | undefined
  #refreshing: Promise<void> | undefined
  #lastRefresh = 0
  #lastWarning: string | undefined

  constructor(options: AgentRoutesOptions) {
    this.#options = options
    this.#agent = options.agent
  }

  /** Where tunnels of `remotePort` go, safe to print. */
  shown(remotePort: number): string {
    const answer = this.#options.routed?.get(remotePort)
    if (answer) return redactUrl(answer.url)
    const agent = this.#agent!
    return `${agent.scheme}//${formatHostPort(agent.host, agent.port)}`
  }

  /** The endpoint of one new connection to `remotePort`. */
  endpointFor(remotePort: number): AgentEndpoint {
    const {target, trust} = this.#options
    const tls = {ca: trust.ca, rejectUnauthorized: trust.rejectUnauthorized}
    const answer = this.#options.routed?.get(remotePort)
    if (answer) {
      return {agent: this.#agentFor(answer.url), headers: answer.headers, tls, url: answer.url}
    }

    // Agents found on the control plane or through --node get no credentials at all.
    const url =
      `${this.shown(remotePort)}${forwardPath(target.project, target.service, remotePort)}`
    return {agent: this.#agentFor(url), tls, url}
  }

  /** For the tunnel: another endpoint for a connection whose dial failed, if there is one. */
  async redial(remotePort: number, failure: DialFailure): Promise<AgentEndpoint | undefined> {
    if (!this.#options.relocate || this.#options.routed?.has(remotePort)) return undefined

    // Another connection may have followed a move since this one was dialled.
    const current = this.endpointFor(remotePort)
    if (!sameUrl(current.url, failure.url)) return current
    if (!isGone(failure)) return undefined

    if (!this.#refreshing) {
      if (Date.now() - this.#lastRefresh < REFRESH_INTERVAL_MS) return undefined
      this.#refreshing = this.#refresh().finally(() => {
        this.#refreshing = undefined
      })
    }

    await this.#refreshing
    const next = this.endpointFor(remotePort)
    return sameUrl(next.url, failure.url) ? undefined : next
  }

  #agentFor(url: string) {
    return this.#options.proxy?.agentFor(url, {tunnel: true})
  }

  async #refresh(): Promise<void> {
    this.#lastRefresh = Date.now()
    const {emit, target} = this.#options
    let placed: PlacedAgent
    try {
      placed = await this.#options.relocate!()
    } catch (error) {
      const message =
        `cannot check whether project "${target.project}" moved: ${(error as Error).message}`
      if (message !== this.#lastWarning) emit({message, type: 'warning'})
      this.#lastWarning = message
      return
    }

    const before = this.#agent as PlacedAgent
    if (placed.host === before.host && placed.port === before.port) {
      debug('project %s is still at %s', target.project, formatHostPort(placed.host, placed.port))
      return
    }

    this.#agent = placed
    const where = formatHostPort(placed.host, placed.port)
    const message = placed.node === before.node ?
      `node "${placed.node}" of project "${target.project}" now reports its agent at ${where}; ` +
      'new connections go there' :
      `project "${target.project}" moved from node "${before.node}" to node "${placed.node}" ` +
      `(${where}); new connections go there`
    emit({message, type: 'info'})
  }
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href
  } catch {
    return a === b
  }
}

function isGone(failure: DialFailure): boolean {
  return failure.status === 404 || failure.timedOut ||
    (failure.code !== undefined && GONE_CODES.has(failure.code))
}
