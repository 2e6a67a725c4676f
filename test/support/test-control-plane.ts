import {
  createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse,
} from 'node:http'
import {createServer as createTlsServer} from 'node:https'
import type {AddressInfo} from 'node:net'

export interface RecordedCall {
  method: string
  url: string
  headers: IncomingHttpHeaders
}

/** Answers a request instead of the resource tables; return false to fall through. */
export type Override = (request: IncomingMessage, response: ServerResponse) => boolean

/**
 * A control plane serving `/api/v1/projects/{name}` and `/api/v1/nodes/{name}` from tables
 * the test fills, with Problem Details for what is missing.
 */
export class TestControlPlane {
  readonly projects = new Map<string, unknown>()
  readonly nodes = new Map<string, unknown>()
  readonly calls: RecordedCall[] = []
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  token: string | undefined
  override: Override | undefined
  #server: Server
  #scheme: string

  private constructor(tls?: {key: string; cert: string}) {
    const handle = (request: IncomingMessage, response: ServerResponse) =>
      this.#handle(request, response)
    this.#server = tls ? createTlsServer(tls, handle) : createServer(handle)
    this.#scheme = tls ? 'https' : 'http'
  }

  /** Serves HTTPS with `tls` when it is given. */
  static async start(tls?: {key: string; cert: string}): Promise<TestControlPlane> {
    const plane = new TestControlPlane(tls)
    await new Promise<void>((resolve) => {
      plane.#server.listen(0, '127.0.0.1', () => resolve())
    })
    return plane
  }

  get url(): string {
    return `${this.#scheme}://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  /** A Running project on `node` with the given services, as the control plane shows it. */
  addProject(
    name: string, options: {node?: string; phase?: string; services?: string[]} = {},
  ): void {
    const services = (options.services ?? ['db']).map((service) => ({image: 'any', name: service}))
    this.projects.set(name, {
      kind: 'Project',
      metadata: {name},
      spec: {services},
      status: {nodeRef: options.node ?? 'node-a', phase: options.phase ?? 'Running'},
    })
  }

  /** A Ready node whose agent is at `ip:agentPort`; leave either out to test its absence. */
  addNode(name: string, network: {agentPort?: number; ip?: string}): void {
    this.nodes.set(name, {kind: 'Node', metadata: {name}, status: {network, state: 'Ready'}})
  }

  /** Calls made to one resource path, such as `/api/v1/projects/shop`. */
  callsTo(path: string): RecordedCall[] {
    return this.calls.filter((call) => call.url === path)
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
    })
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    this.calls.push({
      headers: request.headers, method: request.method ?? '', url: request.url ?? '',
    })
    if (this.override?.(request, response)) return

    if (this.token !== undefined && request.headers.authorization !== `Bearer ${this.token}`) {
      sendProblem(response, 401, 'Unauthorized', 'a valid bearer token is required')
      return
    }

    const match = /^\/api\/v1\/(projects|nodes)\/([^/?]+)$/.exec(request.url ?? '')
    const table = match?.[1] === 'projects' ? this.projects : this.nodes
    const name = match ? decodeURIComponent(match[2]) : ''
    const resource = match ? table.get(name) : undefined
    if (resource === undefined) {
      const kind = match?.[1] === 'nodes' ? 'node' : 'project'
      sendProblem(response, 404, 'Not Found', `${kind} not found: ${name}`)
      return
    }

    response.writeHead(200, {'content-type': 'application/json'})
    response.end(JSON.stringify(resource))
  }
}

export function sendProblem(response: ServerResponse, status: number, title: string,
  detail: string, extra: Record<string, unknown> = {}): void {
  response.writeHead(status, {'content-type': 'application/problem+json'})
  response.end(JSON.stringify({detail, status, title, type: 'about:blank', ...extra}))
}
