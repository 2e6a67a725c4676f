import {connect, createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 that resets any connection through it that carried no byte
 * either way for `idleMs`, as load balancers and NAT gateways cut idle sessions.
 */
export class IdleProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  /** Connections the proxy cut for idling. */
  cuts = 0

  private constructor(to: number, idleMs: number) {
    this.#server = createServer((client) => this.#relay(client, to, idleMs))
  }

  static async start(to: number, idleMs: number): Promise<IdleProxy> {
    const proxy = new IdleProxy(to, idleMs)
    await new Promise<void>((resolve) => {
      proxy.#server.listen(0, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  /** `host:port`, as `--node` takes it. */
  get address(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
    })
  }

  #relay(client: Socket, to: number, idleMs: number): void {
    const upstream = connect(to, '127.0.0.1')
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => this.#sockets.delete(socket))
      socket.setTimeout(idleMs, () => {
        this.cuts++
        client.resetAndDestroy()
        upstream.resetAndDestroy()
      })
    }

    // An idle timeout on each socket counts only its own reads and writes; piping makes
    // every byte a read on one and a write on the other, so either direction keeps both alive.
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }
}
