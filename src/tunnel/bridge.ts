import type {IncomingMessage} from 'node:http'
import type {Socket} from 'node:net'

import createDebug from 'debug'
import type WebSocket from 'ws'

import {redactUrl} from '../redact/redact-url.js'
import type {AgentEndpoint} from './agent-endpoint.js'
import type {DialFailure, Redial} from './dial-failure.js'
import {
  CLOSE_TIMEOUT_MS, DRAINING_HALF_CLOSE_IDLE_MS, HALF_CLOSE_IDLE_MS, HIGH_WATER_BYTES,
  LOW_WATER_BYTES, MAX_INBOUND_MESSAGE, MAX_OUTBOUND_MESSAGE,
} from './limits.js'
import {describeRefusal} from './refusal.js'
import {streamEnd} from './stream-end.js'
import {loadWebSocket} from './websocket-library.js'

const debug = createDebug('caractrl:port-forward:bridge')

export interface BridgeOptions {
  id: number
  /** The accepted local connection, not reading yet: the listener pauses on connect. */
  socket: Socket
  /** Bound on the WebSocket handshake; 0 waits as long as the agent takes. */
  connectTimeoutMs: number
  /**
   * Pause each side while the other cannot take more. Only tests turn it off, to show what
   * it prevents: without it, memory grows with the difference in speed of the two peers.
   */
  flowControl?: boolean
  /** Asked at most once, when the first dial fails before the stream opened. */
  redial?: Redial
}

export interface BridgeResult {
  bytesUp: number
  bytesDown: number
  /** Why the connection ended early; absent when both sides ended normally. */
  error?: string
  /**
   * The local client reset the connection: its own choice (a cancelled download, a killed
   * client), so not a failure of the forward, though the agent's side was cut as well.
   */
  clientReset?: true
}

/**
 * Carries one local TCP connection over one WebSocket to the agent.
 *
 * Nothing is read from the local socket until the WebSocket is open, so whatever the client
 * sends early waits in the kernel, in order, instead of in this process. From then on each
 * direction pauses its source while the other side cannot take more: the local socket while
 * sent frames are unflushed past a high-water mark, the WebSocket while the local socket's
 * write buffer is full.
 *
 * When the agent ends the stream, everything it sent is written out and the client gets a
 * FIN; a reset underneath, an error close code or a dead agent give the client a reset.
 *
 * The agent protocol has no half-close. When the local client half-closes, the WebSocket
 * stays open so the reply still reaches it; the stream ends when the agent closes, or once
 * the agent has sent nothing for a while, since a client that closed its socket outright
 * looks the same as one that half-closed. So a service that waits for the end of its input
 * before it answers cannot be reached this way: it never learns the input ended.
 */
export class Bridge {
  readonly id: number
  readonly startedAt = Date.now()
  readonly done: Promise<BridgeResult>

  #socket: Socket
  #ws: WebSocket | undefined
  #connectTimeoutMs: number
  #flowControl: boolean
  #redial: Redial | undefined
  #opened = false
  #bytesUp = 0
  #bytesDown = 0
  #unflushed = 0
  #localPaused = false
  #remotePaused = false
  #heardFromAgent = true
  #transportError: Error | undefined
  #error: string | undefined
  #clientReset = false
  #closeTimer: NodeJS.Timeout | undefined
  #halfCloseTimer: NodeJS.Timeout | undefined
  #halfCloseIdleMs = HALF_CLOSE_IDLE_MS
  #lingerTimer: NodeJS.Timeout | undefined
  #socketClosed = false
  #wsClosed = false
  #resolve!: (result: BridgeResult) => void

  constructor(options: BridgeOptions) {
    this.id = options.id
    this.#socket = options.socket
    this.#connectTimeoutMs = options.connectTimeoutMs
    this.#flowControl = options.flowControl ?? true
    this.#redial = options.redial
    this.done = new Promise((resolve) => {
      this.#resolve = resolve
    })

    const socket = this.#socket
    socket.setNoDelay(true)
    socket.on('error', (error) => this.#onSocketError(error))
    socket.on('close', () => this.#onSocketClose())
    socket.on('drain', () => this.#onSocketDrain())
  }

  get bytesUp(): number {
    return this.#bytesUp
  }

  get bytesDown(): number {
    return this.#bytesDown
  }

  get #streamOpen(): boolean {
    const ws = this.#ws
    return ws !== undefined && ws.readyState === ws.OPEN
  }

  /** Dials the agent; the local socket starts flowing once the stream is open. */
  open(endpoint: AgentEndpoint): void {
    loadWebSocket().then(
      (WebSocketClass) => this.#dial(endpoint, WebSocketClass),
      (error: Error) => this.abandon(`cannot load the WebSocket library: ${error.message}`),
    )
  }

  #dial(endpoint: AgentEndpoint, WebSocketClass: typeof WebSocket): void {
    if (this.#socketClosed || this.#socket.destroyed) {
      this.#wsClosed = true
      this.#settle()
      return
    }

    // Redacting parses the URL: worth it only where the URL is shown.
    if (debug.enabled) debug('#%d dialling %s', this.id, redactUrl(endpoint.url))
    let ws: WebSocket
    try {
      ws = new WebSocketClass(endpoint.url, {
        agent: endpoint.agent,
        ca: endpoint.tls?.ca,
        followRedirects: false,
        handshakeTimeout: this.#connectTimeoutMs,
        headers: endpoint.headers,
        maxPayload: MAX_INBOUND_MESSAGE,
        perMessageDeflate: false,
        rejectUnauthorized: endpoint.tls?.rejectUnauthorized,
        skipUTF8Validation: true,
      })
    } catch (error) {
      const where = redactUrl(endpoint.url)
      this.abandon(`cannot open a tunnel through ${where}: ${(error as Error).message}`)
      return
    }

    this.#ws = ws
    ws.on('upgrade', (response) => this.#onUpgrade(response))
    ws.on('open', () => this.#onOpen())
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary))
    ws.on('pong', () => {
      this.#heardFromAgent = true
    })
    ws.on('unexpected-response', (_request, response) => this.#onRefused(response))
    ws.on('error', (error) => this.#onWsError(error))
    ws.on('close', (code, reason) => this.#onWsClose(code, reason))
  }

  /** Could not even find out where to dial: end the local connection with the reason. */
  abandon(reason: string): void {
    this.#fail(reason)
    this.#wsClosed = true
    this.#settle()
  }

  /**
   * Called once per keepalive interval. A stream that showed no sign of life since the last
   * call (no pong, no message, no flushed write) is treated as dead.
   */
  heartbeat(intervalMs: number): void {
    if (!this.#streamOpen) return

    // While paused we do not read, so a pong could be waiting unseen behind data.
    if (this.#remotePaused) return

    if (!this.#heardFromAgent) {
      this.#fail(`agent did not answer a keepalive ping within ${intervalMs / 1000}s`)
      return
    }

    this.#heardFromAgent = false
    this.#ws!.ping()
  }

  /**
   * The forward is stopping. A stream whose client already finished sending only waits a
   * moment more for the agent: such a client has most likely closed, not half-closed.
   */
  hurry(): void {
    this.#halfCloseIdleMs = DRAINING_HALF_CLOSE_IDLE_MS
    if (this.#halfCloseTimer) this.#startHalfCloseTimer()
  }

  /** Ends the connection at once, both sides, saying why. */
  cut(reason: string): void {
    this.#fail(reason)
  }

  #onUpgrade(response: IncomingMessage): void {
    const connection = response.socket

    // ws closes with 1006 both for a clean close and for a reset; only the socket can tell.
    connection.on('error', (error) => {
      this.#transportError ??= error
    })

    // ws ends its side once close frames went both ways, whoever sent the first, and would
    // then wait 30s for the agent to end its own.
    connection.on('finish', () => this.#boundClose())
  }

  #onOpen(): void {
    debug('#%d open', this.id)
    this.#opened = true
    const socket = this.#socket
    socket.on('data', (chunk: Buffer) => this.#onSocketData(chunk))
    socket.on('end', () => this.#onSocketEnd())
    socket.resume()
  }

  #onSocketData(chunk: Buffer): void {
    // The agent has ended the stream; what the client still sends has nowhere to go.
    if (!this.#streamOpen) return

    const ws = this.#ws!
    this.#bytesUp += chunk.length
    for (let offset = 0; offset < chunk.length; offset += MAX_OUTBOUND_MESSAGE) {
      const frame = chunk.length <= MAX_OUTBOUND_MESSAGE ?
        chunk :
        chunk.subarray(offset, offset + MAX_OUTBOUND_MESSAGE)
      this.#unflushed += frame.length
      ws.send(frame, {binary: true}, (error) => this.#onFlushed(frame.length, error))
    }

    if (this.#flowControl && this.#unflushed >= HIGH_WATER_BYTES && !this.#localPaused) {
      this.#localPaused = true
      this.#socket.pause()
    }
  }

  #onFlushed(length: number, error?: Error): void {
    this.#unflushed -= length

    // The agent's kernel took the bytes: behind a long upload our ping waits its turn, and
    // this is the only sign that the agent is still reading.
    this.#heardFromAgent = true
    if (error) return

    if (this.#localPaused && this.#unflushed <= LOW_WATER_BYTES) {
      this.#localPaused = false
      this.#socket.resume()
    }
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#heardFromAgent = true
    if (!isBinary) {
      debug('#%d ignored a text message of %d bytes', this.id, data.length)
      return
    }

    const socket = this.#socket
    if (socket.writableEnded || socket.destroyed) return

    this.#bytesDown += data.length
    this.#halfCloseTimer?.refresh()
    if (!socket.write(data) && this.#flowControl && !this.#remotePaused) {
      this.#remotePaused = true
      this.#ws!.pause()
    }
  }

  #onSocketDrain(): void {
    if (!this.#remotePaused) return

    this.#remotePaused = false
    this.#ws?.resume()
  }

  #onSocketEnd(): void {
    if (!this.#streamOpen) return

    debug('#%d local client finished sending; waiting for the agent to end the stream', this.id)
    this.#startHalfCloseTimer()
  }

  #startHalfCloseTimer(): void {
    clearTimeout(this.#halfCloseTimer)
    this.#halfCloseTimer = setTimeout(() => this.#onHalfCloseIdle(), this.#halfCloseIdleMs)
    this.#halfCloseTimer.unref()
  }

  #onHalfCloseIdle(): void {
    debug('#%d nothing from the agent since the local client finished; closing', this.id)
    if (this.#streamOpen) this.#closeStream(1000)
    this.#endLocal()
  }

  #onSocketError(error: NodeJS.ErrnoException): void {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') {
      this.#fail(`local connection failed: ${error.message}`)
      return
    }

    if (this.#error === undefined) {
      debug('#%d local client reset the connection', this.id)
      this.#clientReset = true
    }

    this.#teardown()
  }

  #onSocketClose(): void {
    this.#socketClosed = true
    const ws = this.#ws
    if (this.#streamOpen) this.#closeStream(1000)
    else if (ws && ws.readyState === ws.CONNECTING) ws.terminate()
    this.#settle()
  }

  #onRefused(response: IncomingMessage): void {
    const url = this.#ws!.url
    describeRefusal(response).then((problem) => {
      const reason = `agent refused the tunnel: ${problem}`
      this.#dialFailed({reason, status: response.statusCode, timedOut: false, url})
    })
  }

  #onWsError(error: Error): void {
    const ws = this.#ws!
    if (ws.readyState === ws.OPEN || this.#error !== undefined) {
      this.#fail(`tunnel failed: ${error.message}`)
      return
    }

    const timedOut = /handshake has timed out/.test(error.message)
    const cause = timedOut ? `no answer within ${this.#connectTimeoutMs / 1000}s` : error.message
    const reason = `cannot open a tunnel through ${redactUrl(ws.url)}: ${cause}`
    this.#dialFailed({code: (error as NodeJS.ErrnoException).code, reason, timedOut, url: ws.url})
  }

  #onWsClose(code: number, reason: Buffer): void {
    this.#wsClosed = true
    clearTimeout(this.#closeTimer)
    if (!this.#socketClosed && this.#error === undefined) {
      const end = streamEnd(code, reason, this.#transportError)
      if (end.clean) this.#endLocal()
      else this.#fail(end.reason)
    }

    this.#settle()
  }

  /**
   * Nothing has been read from the local socket yet, so the connection can still be carried
   * elsewhere: the first failed dial is offered to `redial`, once, before failing. Failing
   * terminates the WebSocket, which aborts a refused upgrade's request as well.
   */
  #dialFailed(failure: DialFailure): void {
    const redial = this.#redial
    this.#redial = undefined
    const ws = this.#ws
    if (!redial || !ws || this.#opened || this.#socketClosed) {
      this.#fail(failure.reason)
      return
    }

    // The failed WebSocket must not end the connection while the next one is dialled.
    ws.removeAllListeners()
    ws.on('error', () => {})
    ws.terminate()
    this.#ws = undefined
    redial(failure).then(
      (endpoint) => (endpoint ? this.open(endpoint) : this.abandon(failure.reason)),
      () => this.abandon(failure.reason),
    )
  }

  /** Records the first reason and tears both sides down, the local side with a reset. */
  #fail(reason: string): void {
    if (this.#error === undefined && !this.#clientReset) {
      this.#error = reason
      debug('#%d failed: %s', this.id, reason)
    }

    this.#teardown()
  }

  #teardown(): void {
    if (!this.#socket.destroyed) this.#socket.resetAndDestroy()
    const ws = this.#ws
    if (ws && ws.readyState !== ws.CLOSED) ws.terminate()
  }

  /** A polite close, bounded: a peer that never answers the close frame is cut. */
  #closeStream(code: number): void {
    this.#ws!.close(code)
    this.#boundClose()
  }

  /** Cuts the closing WebSocket if the agent has not finished closing it in time. */
  #boundClose(): void {
    if (this.#closeTimer) return

    const ws = this.#ws!
    this.#closeTimer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS)
    this.#closeTimer.unref()
  }

  /** Sends the local client a FIN after everything before it, then waits for its own. */
  #endLocal(): void {
    const socket = this.#socket
    if (socket.writableEnded || socket.destroyed) return

    // Reading on discards what the client still sends, so its FIN can arrive.
    socket.resume()
    socket.end(() => {
      if (socket.destroyed) return

      // A client that never closes its side would hold the connection open for good.
      this.#lingerTimer = setTimeout(() => socket.destroy(), CLOSE_TIMEOUT_MS)
      this.#lingerTimer.unref()
    })
  }

  #settle(): void {
    if (!this.#socketClosed || (this.#ws && !this.#wsClosed)) return

    clearTimeout(this.#closeTimer)
    clearTimeout(this.#halfCloseTimer)
    clearTimeout(this.#lingerTimer)
    const result: BridgeResult = {bytesDown: this.#bytesDown, bytesUp: this.#bytesUp}
    if (this.#error !== undefined) result.error = this.#error
    if (this.#clientReset) result.clientReset = true
    this.#resolve(result)
  }
}
