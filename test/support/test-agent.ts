import {createServer, type IncomingHttpHeaders, type IncomingMessage, type Server} from 'node:http'
import {createServer as createTlsServer} from 'node:https'
import {connect, type AddressInfo, type Socket} from 'node:net'
import type {Duplex} from 'node:stream'

import {WebSocketServer, type WebSocket} from 'ws'

/** The agent reads the container side in chunks of this size, as cara-agent does. */
const READ_CHUNK = 32 * 1024

export interface TestAgentOptions {
  /** Services answered with 404 (no container). */
  missing?: string[]
  /** Services answered with 503 (container not running). */
  stopped?: string[]
  /** Where a forward goes; by default 127.0.0.1 at the requested port, like the Go reference. */
  route?: (project: string, service: string, port: number) => {host: string; port: number}
  port?: number
  /** Serves `wss:` with this key and certificate. */
  tls?: {key: string; cert: string}
  /**
   * End each stream by closing the connection without a close frame, as agents built on
   * gorilla/websocket (cara-agent among them) do.
   */
  bareClose?: boolean
}

/** Pending connections the agent's listener queues, so that load tests measure the CLI. */
const BACKLOG = 4096

export interface RecordedRequest {
  url: string
  headers: IncomingHttpHeaders
}

/**
 * An agent of the protocol's forward endpoint, on 127.0.0.1. It keeps the requests it saw
 * and its open tunnels, so tests can check headers and inject faults.
 */
export class TestAgent {
  readonly requests: RecordedRequest[] = []
  readonly tunnels = new Set<{ws: WebSocket; socket: Socket}>()
  /** Every upgraded connection, closing ones included, so that close() ends them all. */
  #connections = new Set<Duplex>()
  #server: Server
  #wss = new WebSocketServer({noServer: true, perMessageDeflate: false})
  #options: TestAgentOptions

  private constructor(options: TestAgentOptions) {
    this.#options = options
    const handle = (request: IncomingMessage, response: import('node:http').ServerResponse) => {
      if (request.url === '/healthz') {
        response.end('OK')
        return
      }

      problem(response, 404, 'Not Found', `no route for ${request.url}`)
    }

    this.#server = options.tls ? createTlsServer(options.tls, handle) : createServer(handle)
    this.#server.on('upgrade', (request, socket, head) => this.#upgrade(request, socket, head))
  }

  static async start(options: TestAgentOptions = {}): Promise<TestAgent> {
    const agent = new TestAgent(options)
    await new Promise<void>((resolve, reject) => {
      agent.#server.once('error', reject)
      agent.#server.listen({backlog: BACKLOG, host: '127.0.0.1', port: options.port ?? 0},
        () => resolve())
    })
    return agent
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  /** `host:port`, as `--node` takes it. */
  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  async close(): Promise<void> {
    for (const {socket, ws} of this.tunnels) {
      ws.terminate()
      socket.destroy()
    }

    for (const connection of this.#connections) connection.destroy()

    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
    })
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {})
    this.#connections.add(socket)
    socket.on('close', () => this.#connections.delete(socket))
    this.requests.push({headers: request.headers, url: request.url ?? ''})
    const match = /^\/api\/v1\/forward\/([^/]+)\/([^/]+)\/([^/?]+)$/.exec(request.url ?? '')
    if (!match) {
      refuse(socket, 404, 'Not Found', `no route for ${request.url}`)
      return
    }

    const [project, service] = [decodeURIComponent(match[1]), decodeURIComponent(match[2])]
    const port = Number(match[3])
    if (!/^\d+$/.test(match[3]) || port < 1 || port > 65_535) {
      refuse(socket, 400, 'Bad Request', `invalid port: ${match[3]}`)
      return
    }

    if (this.#options.missing?.includes(service)) {
      refuse(socket, 404, 'Not Found', `no container for ${project}/${service}`)
      return
    }

    if (this.#options.stopped?.includes(service)) {
      refuse(socket, 503, 'Service Unavailable', `container ${project}/${service} is not running`)
      return
    }

    const to = this.#options.route?.(project, service, port) ?? {host: '127.0.0.1', port}
    const upstream = connect(to.port, to.host)
    upstream.once('error', () => {
      refuse(socket, 502, 'Bad Gateway', `nothing accepts on port ${port} of ${project}/${service}`)
    })
    upstream.once('connect', () => {
      upstream.removeAllListeners('error')
      this.#wss.handleUpgrade(request, socket, head, (ws) => this.#relay(ws, upstream, socket))
    })
  }

  #relay(ws: WebSocket, socket: Socket, connection: Duplex): void {
    const tunnel = {socket, ws}
    this.tunnels.add(tunnel)
    const end = (): void => {
      if (ws.readyState !== ws.OPEN) return
      // Ending the raw connection sends what is queued, then a FIN with no close frame.
      if (this.#options.bareClose) connection.end()
      else ws.close(1000)
    }

    // A failed container connection is not a finished stream: say so with 1011.
    socket.on('error', () => {
      if (ws.readyState === ws.OPEN) ws.close(1011, 'container connection failed')
      socket.destroy()
    })
    ws.on('error', () => ws.terminate())

    socket.on('data', (chunk: Buffer) => {
      for (let offset = 0; offset < chunk.length; offset += READ_CHUNK) {
        ws.send(chunk.subarray(offset, offset + READ_CHUNK), {binary: true})
      }

      if (ws.bufferedAmount > 1024 * 1024) {
        socket.pause()
        waitForFlush(ws, () => socket.resume())
      }
    })
    ws.on('message', (data: Buffer) => {
      if (!socket.write(data)) {
        ws.pause()
        socket.once('drain', () => ws.resume())
      }
    })

    // The protocol has no half-close: either side ending ends the whole tunnel.
    socket.on('end', end)
    socket.on('close', () => {
      this.tunnels.delete(tunnel)
      end()
    })
    ws.on('close', () => {
      this.tunnels.delete(tunnel)
      socket.end()
    })
  }
}

function waitForFlush(ws: WebSocket, then: () => void): void {
  if (ws.bufferedAmount < 256 * 1024 || ws.readyState !== ws.OPEN) {
    then()
    return
  }

  setTimeout(() => waitForFlush(ws, then), 5)
}

function problemBody(status: number, title: string, detail: string): string {
  return JSON.stringify({detail, status, title, type: 'about:blank'})
}

function problem(response: import('node:http').ServerResponse, status: number, title: string,
  detail: string): void {
  response.writeHead(status, {'content-type': 'application/problem+json'})
  response.end(problemBody(status, title, detail))
}

function refuse(socket: Duplex, status: number, title: string, detail: string): void {
  const body = problemBody(status, title, detail)
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}
