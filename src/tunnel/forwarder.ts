import {createServer, type Server, type Socket} from 'node:net'

import createDebug from 'debug'

import type {ListenAddress} from '../args/listen-address.js'
import {formatHostPort} from '../args/node-address.js'
import {BindError} from '../errors/index.js'
import type {EmitEvent} from '../events/forward-event.js'
import type {AgentEndpoint} from './agent-endpoint.js'
import {Bridge, type BridgeResult} from './bridge.js'
import type {DialFailure} from './dial-failure.js'
import {LISTEN_BACKLOG} from './limits.js'
import {loadWebSocket} from './websocket-library.js'

const debug = createDebug('caractrl:port-forward:forwarder')

/** Errors that mean the machine lacks that address family, not that someone holds the port. */
const MISSING_FAMILY = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT'])

/** Fresh tries for a chosen port that turned out to be taken on a second address. */
const CHOSEN_PORT_TRIES = 5

/** A local port, on one or more addresses, and the remote port its connections reach. */
export interface ListenSpec {
  addresses: ListenAddress[]
  /** 0 lets the operating system choose; every address then gets the same port. */
  port: number
  remotePort: number
}

/** A listener that is accepting, with the port it really got. */
export interface Listening {
  host: string
  port: number
  remotePort: number
}

export interface ForwarderOptions {
  listeners: ListenSpec[]
  /** Where a new connection to `remotePort` goes; asked once per connection. */
  endpointFor(remotePort: number): AgentEndpoint | Promise<AgentEndpoint>
  /**
   * Offered a connection whose first dial failed before any byte flowed; an endpoint it
   * returns is dialled once more for that connection. Leave it out to fail at once.
   */
  redial?(remotePort: number, failure: DialFailure): Promise<AgentEndpoint | undefined>
  emit: EmitEvent
  /** Keepalive ping interval; 0 turns keepalive off. */
  pingIntervalMs: number
  connectTimeoutMs: number
}

/**
 * Owns the local listeners and every live connection. It accepts, hands each connection to
 * its own bridge, keeps them alive, and on shutdown stops accepting and waits for them.
 */
export class Forwarder {
  #options: ForwarderOptions
  #servers: Server[] = []
  #bridges = new Set<Bridge>()
  #nextId = 1
  #heartbeat: NodeJS.Timeout | undefined
  #draining = false
  #idle: Array<() => void> = []

  constructor(options: ForwarderOptions) {
    this.#options = options
  }

  /** Connections still open. */
  get active(): number {
    return this.#bridges.size
  }

  /**
   * Listens on every address or on none: if one cannot be bound, those already bound are
   * closed again and the failure names the address.
   */
  async start(): Promise<Listening[]> {
    const listening: Listening[] = []
    try {
      for (const spec of this.#options.listeners) {
        listening.push(...await this.#listenSpec(spec))
      }
    } catch (error) {
      this.#closeServers()
      throw error
    }

    // Once the caller has said that the forward is ready, not before: the first connection
    // needs the library, the confirmation line does not. A failure shows on that connection.
    setImmediate(() => {
      loadWebSocket().catch(() => {})
    })

    const {pingIntervalMs} = this.#options
    if (pingIntervalMs > 0) {
      this.#heartbeat = setInterval(() => this.#beat(pingIntervalMs), pingIntervalMs)
      this.#heartbeat.unref()
    }

    return listening
  }

  /** Stops accepting at once; resolves when the last open connection has ended. */
  async drain(): Promise<void> {
    this.#draining = true
    this.#closeServers()
    for (const bridge of this.#bridges) bridge.hurry()
    if (this.#bridges.size > 0) {
      await new Promise<void>((resolve) => {
        this.#idle.push(resolve)
      })
    }

    clearInterval(this.#heartbeat)
  }

  /** Ends every open connection now; returns how many were cut. */
  cut(reason: string): number {
    const count = this.#bridges.size
    for (const bridge of this.#bridges) bridge.cut(reason)
    return count
  }

  /**
   * Binds one port on all its addresses. A port the system chose on the first address is
   * asked for on the others too, so that every address of `localhost` reaches the same
   * forward; if another program holds it there, the whole group tries a fresh port.
   */
  async #listenSpec(spec: ListenSpec): Promise<Listening[]> {
    for (let attempt = 1; ; attempt++) {
      const servers: Server[] = []
      let port = spec.port
      try {
        for (const address of spec.addresses) {
          const server = await this.#bind(address, port)
          if (server) servers.push(server)
          if (server && port === 0) port = (server.address() as {port: number}).port
        }
      } catch (error) {
        for (const server of servers) server.close()
        const taken = error instanceof BindError && error.systemCode === 'EADDRINUSE'
        if (taken && spec.port === 0 && servers.length > 0 && attempt < CHOSEN_PORT_TRIES) continue
        throw error
      }

      return servers.map((server) => this.#serve(server, spec.remotePort))
    }
  }

  /** Listens on one address; resolves undefined when the machine lacks an optional one. */
  async #bind(address: ListenAddress, port: number): Promise<Server | undefined> {
    const server = createServer({allowHalfOpen: true, noDelay: true, pauseOnConnect: true})
    const where = formatHostPort(address.host, port)
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({backlog: LISTEN_BACKLOG, host: address.host, port}, resolve)
      })
    } catch (error) {
      const {code} = error as NodeJS.ErrnoException
      if (address.optional && code !== undefined && MISSING_FAMILY.has(code)) {
        debug('%s is not available here: %s', address.host, code)
        return undefined
      }

      const cause = error as NodeJS.ErrnoException
      throw new BindError(`cannot listen on ${where}: ${bindAdvice(cause)}`, {cause})
    }

    server.removeAllListeners('error')
    return server
  }

  #serve(server: Server, remotePort: number): Listening {
    const {address: host, port} = server.address() as {address: string; port: number}
    const where = formatHostPort(host, port)
    server.on('error', (error) => {
      const message = `accepting on ${where} failed: ${error.message}`
      this.#options.emit({message, type: 'warning'})
    })
    server.on('connection', (socket) => this.#accept(socket, remotePort))
    this.#servers.push(server)
    debug('listening on %s for remote port %d', where, remotePort)
    return {host, port, remotePort}
  }

  /**
   * Carries a stream that did not come from a listener, such as stdin and stdout together,
   * under the same rules as an accepted connection. Resolves when it has ended.
   */
  async adopt(stream: Socket, remotePort: number): Promise<BridgeResult> {
    return this.#accept(stream, remotePort).done
  }

  #accept(socket: Socket, remotePort: number): Bridge {
    const id = this.#nextId++
    const peer = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0)
    const {redial} = this.#options
    const bridge = new Bridge({
      connectTimeoutMs: this.#options.connectTimeoutMs,
      id,
      redial: redial && ((failure) => redial.call(this.#options, remotePort, failure)),
      socket,
    })
    this.#bridges.add(bridge)
    const {emit} = this.#options
    emit({id, localPort: socket.localPort ?? 0, peer, remotePort, type: 'connection-open'})

    bridge.done.then((result) => {
      this.#bridges.delete(bridge)
      const durationMs = Date.now() - bridge.startedAt
      emit({...result, durationMs, id, remotePort, type: 'connection-close'})
      if (this.#bridges.size === 0) this.#onIdle()
    })

    this.#endpoint(remotePort).then(
      (endpoint) => bridge.open(endpoint),
      (error: Error) => bridge.abandon(`cannot find the agent: ${error.message}`),
    )
    return bridge
  }

  async #endpoint(remotePort: number): Promise<AgentEndpoint> {
    return this.#options.endpointFor(remotePort)
  }

  #beat(intervalMs: number): void {
    for (const bridge of this.#bridges) bridge.heartbeat(intervalMs)
  }

  #onIdle(): void {
    // What a finished connection leaves behind shows here: with none open, this stays flat.
    if (debug.enabled) {
      debug('no connections open; %d active resources', process.getActiveResourcesInfo().length)
    }

    if (!this.#draining) return

    for (const resolve of this.#idle.splice(0)) resolve()
  }

  /** Listening stops as close() returns; its callback would also wait for the connections. */
  #closeServers(): void {
    for (const server of this.#servers.splice(0)) server.close()
  }
}

function bindAdvice(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EADDRINUSE': {
      return 'the port is already in use; stop what holds it or choose another local port, ' +
        'e.g. 15432:5432'
    }

    case 'EACCES': {
      return 'permission denied; ports below 1024 need privileges, choose a higher local port'
    }

    case 'EADDRNOTAVAIL': {
      return 'this host has no such address; choose an address of this machine'
    }

    default: {
      return error.message
    }
  }
}
