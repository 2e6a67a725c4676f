import {createServer, type Server, type Socket} from 'node:net'

import createDebug from 'debug'

import {formatHostPort} from '../args/node-address.js'
import {BindError} from '../errors/index.js'
import type {EmitEvent} from '../events/forward-event.js'
import type {AgentEndpoint} from './agent-endpoint.js'
import {Bridge} from './bridge.js'
import {LISTEN_BACKLOG} from './limits.js'

const debug = createDebug('caractrl:port-forward:forwarder')

/** One local address to listen on and the remote port its connections reach. */
export interface ListenSpec {
  host: string
  /** 0 lets the operating system choose. */
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
        listening.push(await this.#listen(spec))
      }
    } catch (error) {
      this.#closeServers()
      throw error
    }

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

  async #listen(spec: ListenSpec): Promise<Listening> {
    const server = createServer({allowHalfOpen: true, noDelay: true, pauseOnConnect: true})
    const where = formatHostPort(spec.host, spec.port)
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(new BindError(`cannot listen on ${where}: ${bindAdvice(error)}`, {cause: error}))
      })
      server.listen({backlog: LISTEN_BACKLOG, host: spec.host, port: spec.port}, resolve)
    })

    server.removeAllListeners('error')
    server.on('error', (error) => {
      const message = `accepting on ${where} failed: ${error.message}`
      this.#options.emit({message, type: 'warning'})
    })
    server.on('connection', (socket) => this.#accept(socket, spec.remotePort))
    this.#servers.push(server)

    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : spec.port
    debug('listening on %s:%d for remote port %d', spec.host, port, spec.remotePort)
    return {host: spec.host, port, remotePort: spec.remotePort}
  }

  #accept(socket: Socket, remotePort: number): void {
    const id = this.#nextId++
    const peer = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0)
    const bridge = new Bridge({connectTimeoutMs: this.#options.connectTimeoutMs, id, socket})
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
