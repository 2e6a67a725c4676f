import {isIP} from 'node:net'

import type {Target} from '../args/target.js'
import {ControlPlaneError, TargetError} from '../errors/index.js'
import type {EmitEvent} from '../events/forward-event.js'
import {DEFAULT_AGENT_PORT} from '../protocol/forward-path.js'
import {ControlPlaneClient, ControlPlaneHttpError} from './control-plane-client.js'
import type {ResolveBudget} from './resolve-budget.js'
import {waitForRunning} from './wait-for-running.js'

/** The agent that serves a project, as the control plane places it. */
export interface ResolvedAgent {
  node: string
  host: string
  port: number
  /** Something a person should know, such as a defaulted port. */
  warnings: string[]
}

/** How resolution treats a project that is not Running yet. */
export interface ResolveOptions {
  /** Longest wait for a Pending or Scheduled project; 0 fails at once. */
  runningTimeoutMs: number
  /** Every request draws on it; waiting for Running pushes it back by `runningTimeoutMs`. */
  budget: ResolveBudget
  emit: EmitEvent
}

/**
 * Follows the control plane from the project to its node and to the node's agent:
 * project -> `status.nodeRef` -> node -> `status.network.ip` and `agentPort`.
 */
export async function resolveAgent(
  client: ControlPlaneClient, target: Target, options: ResolveOptions,
): Promise<ResolvedAgent> {
  const {project: name, service} = target
  const {budget} = options
  const path = `/api/v1/projects/${encodeURIComponent(name)}`
  const fetchProject = async () => {
    const project = await fetchResource(client, path, budget, `project "${name}"`,
      'check the name with caractrl')
    // A wrong service name fails before any wait: waiting would not fix it.
    checkService(name, service, objectAt(project, 'spec'))
    return project
  }

  const view = (project: Record<string, unknown>) => {
    const status = objectAt(project, 'status')
    return {nodeRef: stringAt(status, 'nodeRef'), phase: stringAt(status, 'phase')}
  }

  const project = await waitForRunning(fetchProject, view, {
    emit: options.emit,
    onWaiting: () => budget.extend(options.runningTimeoutMs),
    project: name,
    timeoutMs: options.runningTimeoutMs,
  })
  const nodeName = view(project).nodeRef!
  const node = await fetchResource(client, `/api/v1/nodes/${encodeURIComponent(nodeName)}`,
    budget, `node "${nodeName}" of project "${name}"`,
    'retry if the project is moving, or reach the agent directly with --node host:port')
  const network = objectAt(objectAt(node, 'status'), 'network')
  const host = stringAt(network, 'ip')
  if (!host) {
    throw new TargetError(
      'no-node-address',
      `node "${nodeName}" reports no address (status.network.ip is missing): ` +
      'reach its agent directly with --node host:port',
    )
  }

  if (!isValidHost(host)) {
    throw new ControlPlaneError(
      'bad-node-address',
      `node "${nodeName}" reports an address that is not an IP address or host name ` +
      `(status.network.ip "${host.slice(0, 80)}"): reach its agent directly with --node host:port`,
    )
  }

  const warnings: string[] = []
  const reported = network?.agentPort
  let port = DEFAULT_AGENT_PORT
  if (reported !== undefined && reported !== null && reported !== 0 && !isPort(reported)) {
    throw new ControlPlaneError(
      'bad-node-address',
      `node "${nodeName}" reports an agent port that is not one ` +
      `(status.network.agentPort ${JSON.stringify(reported).slice(0, 40)}): ` +
      'reach its agent directly with --node host:port',
    )
  }

  if (isPort(reported)) {
    port = reported
  } else {
    warnings.push(
      `node "${nodeName}" reports no agent port (status.network.agentPort); ` +
      `trying the default ${DEFAULT_AGENT_PORT}, or pass --node host:port`,
    )
  }

  return {host, node: nodeName, port, warnings}
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65_536
}

// A DNS name of letters, digits, hyphens and dots, or an IP address; nothing that could
// change the URL it is put into.
const HOST_NAME = /^(?=.{1,253}$)[a-z\d]([a-z\d-]*[a-z\d])?(\.[a-z\d]([a-z\d-]*[a-z\d])?)*$/i

function isValidHost(host: string): boolean {
  return isIP(host) !== 0 || HOST_NAME.test(host)
}

/** GETs one resource; `ifMissing` is the advice given when the control plane answers 404. */
async function fetchResource(
  client: ControlPlaneClient, path: string, budget: ResolveBudget, what: string, ifMissing: string,
): Promise<Record<string, unknown>> {
  let body: unknown
  try {
    body = await client.getJson(path, budget)
  } catch (error) {
    // A 404 in another format than the control plane's comes from something else: a web
    // server, a proxy, an agent. The name is not what is wrong then; the address is.
    if (error instanceof ControlPlaneHttpError && error.status === 404 && !error.problemDetails) {
      throw new ControlPlaneError(
        'not-control-plane',
        `${client.shownAs} answered GET ${path} with ${error.message}, not as a control plane ` +
        'does: check --server, CARACTRL_SERVER or the caractrl login',
      )
    }

    if (error instanceof ControlPlaneHttpError && error.status === 404) {
      throw new TargetError(
        'not-found',
        `${what} was not found on the control plane at ${client.shownAs} (${error.message}): ` +
        ifMissing,
      )
    }

    if (error instanceof ControlPlaneHttpError) {
      throw new ControlPlaneHttpError(error.status, `control plane at ${client.shownAs} ` +
        `${refusal(error.status)} ${what}: ${error.message}; ${advice(error.status)}`)
    }

    throw error
  }

  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ControlPlaneError(
      'bad-answer',
      `control plane at ${client.shownAs} answered with something that is not ${what}: ` +
      'check that --server points at the control plane',
    )
  }

  return body as Record<string, unknown>
}

/** A 5xx is the control plane failing, not a decision to refuse. */
function refusal(status: number): string {
  return status >= 500 ? 'failed to show' : 'refused to show'
}

function advice(status: number): string {
  if (status === 401 || status === 403) return 'log in again with caractrl, or set CARACTRL_TOKEN'
  if (status >= 500) {
    return 'retry in a moment; if it persists, check the control plane and any proxy before it'
  }

  return 'check that --server points at the control plane'
}

function checkService(
  project: string, service: string, spec: Record<string, unknown> | undefined,
): void {
  const services = spec?.services
  if (!Array.isArray(services) || services.length === 0) return

  const names = services
    .map((entry) => stringAt(entry as Record<string, unknown>, 'name'))
    .filter((name): name is string => Boolean(name))
  if (names.length === 0 || names.includes(service)) return

  throw new TargetError(
    'unknown-service',
    `project "${project}" has no service "${service}"; it has: ${names.join(', ')}`,
  )
}

function objectAt(value: Record<string, unknown> | undefined, key: string):
Record<string, unknown> | undefined {
  const child = value?.[key]
  return typeof child === 'object' && child !== null && !Array.isArray(child) ?
    child as Record<string, unknown> :
    undefined
}

function stringAt(value: Record<string, unknown> | undefined, key: string): string | undefined {
  const child = value?.[key]
  return typeof child === 'string' && child !== '' ? child : undefined
}
