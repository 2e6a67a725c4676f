import {createServer, request, type IncomingMessage, type Server} from 'node:http'
import {connect, type AddressInfo, type Socket} from 'node:net'

/**
 * An HTTP proxy on 127.0.0.1 that logs what passes through it: `CONNECT host:port` for
 * tunnels (WebSockets, TLS) and `GET http://…` for plain requests sent in absolute form.
 * `refuse` makes it answer 403 to everything, as a proxy that forbids a destination does.
 */
export class ConnectProxy {
  readonly seen: string[] = []
  /** `Proxy-Authorization` headers received, in order. */
  readonly credentials: Array<string | undefined> = []
  refuse = false
  #server: Server
  #sockets = new Set<Socket>()

  private constructor() {
    this.#server = createServer((incoming, outgoing) => {
      this.#log(`${incoming.method} ${incoming.url}`, incoming)
      if (this.refuse) {
        outgoing.writeHead(403).end()
        return
      }

      const target = new URL(incoming.url ?? '')
      const upstream = request({
        headers: incoming.headers, host: target.hostname, method: incoming.method,
        path: `${target.pathname}${target.search}`, port: target.port,
      }, (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers)
        response.pipe(outgoing)
      })
      upstream.on('error', () => outgoing.destroy())
      incoming.pipe(upstream)
    })
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
    this.#server.on('connect', (incoming: IncomingMessage, client: Socket, head: Buffer) => {
      this.#log(`CONNECT ${incoming.url}`, incoming)
      client.on('error', () => {})
      if (this.refuse) {
        client.end('HTTP/1.1 403 Forbidden\r\n\r\n')
        return
      }

      const [host, port] = splitHostPort(incoming.url ?? '')
      const upstream = connect(port, host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      })
      this.#sockets.add(upstream)
      upstream.on('close', () => this.#sockets.delete(upstream))
      upstream.on('error', () => client.destroy())
    })
  }

  static async start(): Promise<ConnectProxy> {
    const proxy = new ConnectProxy()
    await new Promise<void>((resolve) => {
      proxy.#server.listen(0, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  clear(): void {
    this.seen.length = 0
    this.credentials.length = 0
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
    })
  }

  #log(line: string, incoming: IncomingMessage): void {
    this.seen.push(line)
    this.credentials.push(incoming.headers['proxy-authorization'])
  }
}

function splitHostPort(authority: string): [string, number] {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority)
  return match ? [match[1], Number(match[2])] : [authority, 443]
}
