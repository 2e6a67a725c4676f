import type {IncomingMessage} from 'node:http'
import type {Socket} from 'node:net'

import createDebug from 'debug'
import WebSocket from 'ws'

import {describeProblem} from '../protocol/problem-details.js'
import {redactUrl} from '../redact/redact-url.js'
import type {AgentEndpoint} from './agent-endpoint.js'
import type {DialFailure, Redial} from './dial-failure.js'
import {
  CLOSE_TIMEOUT_MS, HALF_CLOSE_IDLE_MS, HIGH_WATER_BYTES, LOW_WATER_BYTES, MAX_INBOUND_MESSAGE,
  MAX_OUTBOUND_MESSAGE,
} from './limits.js'

const debug = createDebug('caractrl:port-forward:bridge')

/** Close codes after which the agent's stream is known complete. */
const NORMAL_CLOSE = new Set([1000, 1001, 1005])

/** Longest Problem Details body read from a refused upgrade. */
const MAX_REFUSAL_BODY = 16 * 1024

export interface BridgeOptions {
  id: number
  socket: Socket
  connectTimeoutMs: number
  /** Asked at most once, when the first dial fails before the stream opened. */
  redial?: Redial
}

export interface BridgeResult {
  bytesUp: number
  bytesDown: number
  /** Why the connection ended early; absent when both sides ended normally. */
  error?: string
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
 * The agent protocol has no half-close. When the local client half-closes, the WebSocket
 * stays open so the reply still reaches it; the stream ends when the agent closes, or once
 * the agent has sent nothing for a while, since a client that closed its socket outright
 * looks the same as one that half-closed.
 */
export class Bridge {
  readonly id: number
  readonly startedAt = Date.now()
  readonly done: Promise<BridgeResult>

  #socket: Socket
  #ws: WebSocket | undefined
  #connectTimeoutMs: number
  #redial: Redial | undefined
  #opened = false
  #bytesUp = 0
  #bytesDown = 0
  #unflushed = 0
  #localPaused = false
  #remotePaused = false
  #progressed = true
  #error: string | undefined
  #closeTimer: NodeJS.Timeout | undefined
  #halfCloseTimer: NodeJS.Timeout | undefined
  #socketClosed = false
  #wsClosed = false
  #resolve!: (result: BridgeResult) => void

  constructor(options: BridgeOptions) {
    this.id = options.id
    this.#socket = options.socket
    this.#connectTimeoutMs = options.connectTimeoutMs
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

  /** Dials the agent; the local socket starts flowing once the stream is open. */
  open(endpoint: AgentEndpoint): void {
    if (this.#socketClosed) {
      this.#wsClosed = true
      this.#finish()
      return
    }

    debug('#%d dialling %s', this.id, redactUrl(endpoint.url))
    const ws = new WebSocket(endpoint.url, {
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
    this.#ws = ws
    ws.on('open', () => this.#onOpen())
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary))
    ws.on('pong', () => {
      this.#progressed = true
    })
    ws.on('unexpected-response', (_request, response) => this.#onRefused(response))
    ws.on('error', (error) => this.#onWsError(error))
    ws.on('close', (code, reason) => this.#onWsClose(code, reason))
  }

  /** Could not even find out where to dial: end the local connection with the reason. */
  abandon(reason: string): void {
    this.#fail(reason)
    this.#wsClosed = true
    this.#finish()
  }

  /**
   * Called once per keepalive interval. A stream that showed no sign of life since the last
   * call (no pong, no message, no flushed write) is treated as dead.
   */
  heartbeat(intervalMs: number): void {
    const ws = this.#ws
    if (!ws || ws.readyState !== WebSocket.OPEN) return

    // While paused we do not read, so a pong could be waiting unseen behind data.
    if (this.#remotePaused) return

    if (!this.#progressed) {
      this.#fail(`agent did not answer a keepalive ping within ${intervalMs / 1000}s`)
      return
    }

    this.#progressed = false
    ws.ping()
  }

  /** Ends the connection at once, both sides, saying why. */
  cut(reason: string): void {
    this.#fail(reason)
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
    const ws = this.#ws!
    this.#bytesUp += chunk.length
    for (let offset = 0; offset < chunk.length; offset += MAX_OUTBOUND_MESSAGE) {
      const frame = chunk.length <= MAX_OUTBOUND_MESSAGE ?
        chunk :
        chunk.subarray(offset, offset + MAX_OUTBOUND_MESSAGE)
      this.#unflushed += frame.length
      ws.send(frame, {binary: true}, (error) => this.#onFlushed(frame.length, error))
    }

    if (this.#unflushed >= HIGH_WATER_BYTES && !this.#localPaused) {
      this.#localPaused = true
      this.#socket.pause()
    }
  }

  #onFlushed(length: number, error?: Error): void {
    this.#unflushed -= length
    this.#progressed = true
    if (error) return

    if (this.#localPaused && this.#unflushed <= LOW_WATER_BYTES) {
      this.#localPaused = false
      this.#socket.resume()
    }
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#progressed = true
    if (!isBinary) {
      debug('#%d ignored a text message of %d bytes', this.id, data.length)
      return
    }

    this.#bytesDown += data.length
    this.#halfCloseTimer?.refresh()
    if (!this.#socket.write(data) && !this.#remotePaused) {
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
    debug('#%d local client finished sending; waiting for the agent to end the stream', this.id)
    this.#halfCloseTimer = setTimeout(() => this.#onHalfCloseIdle(), HALF_CLOSE_IDLE_MS)
    this.#halfCloseTimer.unref()
  }

  #onHalfCloseIdle(): void {
    debug('#%d nothing from the agent since the local client finished; closing', this.id)
    if (this.#ws?.readyState === WebSocket.OPEN) this.#closeStream(1000)
    this.#socket.end()
  }

  #onSocketError(error: NodeJS.ErrnoException): void {
    const reason = error.code === 'ECONNRESET' || error.code === 'EPIPE' ?
      'local client reset the connection' :
      `local connection failed: ${error.message}`
    this.#fail(reason)
  }

  #onSocketClose(): void {
    this.#socketClosed = true
    const ws = this.#ws
    if (ws && ws.readyState === WebSocket.OPEN) this.#closeStream(1000)
    else if (ws && ws.readyState === WebSocket.CONNECTING) ws.terminate()
    this.#finish()
  }

  #onRefused(response: IncomingMessage): void {
    const status = response.statusCode ?? 0
    const chunks: Buffer[] = []
    let length = 0
    response.on('data', (chunk: Buffer) => {
      if (length < MAX_REFUSAL_BODY) chunks.push(chunk)
      length += chunk.length
    })
    response.on('error', () => {})
    response.on('end', () => {
      const body = Buffer.concat(chunks).subarray(0, MAX_REFUSAL_BODY).toString('utf8')
      const problem = describeProblem(status, response.statusMessage ?? '', body)
      // Failing terminates the WebSocket, which aborts the request as well.
      const reason = `agent refused the tunnel: ${problem}`
      this.#dialFailed({reason, status, timedOut: false, url: this.#ws?.url ?? ''})
    })
  }

  #onWsError(error: NodeJS.ErrnoException): void {
    const ws = this.#ws
    const url = ws ? redactUrl(ws.url) : 'the agent'
    if (ws && ws.readyState !== WebSocket.OPEN && !this.#error) {
      const cause = /handshake has timed out/.test(error.message) ?
        `no answer within ${this.#connectTimeoutMs / 1000}s` :
        error.message
      const reason = `cannot open a tunnel through ${url}: ${cause}`
      this.#dialFailed({code: error.code, reason, timedOut: cause !== error.message, url: ws.url})
      return
    }

    this.#fail(`tunnel failed: ${error.message}`)
  }

  #onWsClose(code: number, reason: Buffer): void {
    this.#wsClosed = true
    clearTimeout(this.#closeTimer)
    if (!this.#socketClosed) {
      if (this.#error === undefined && NORMAL_CLOSE.has(code)) {
        // Whatever is still queued for the client is flushed before the FIN goes out.
        this.#socket.end()
      } else {
        if (this.#error === undefined) {
          const why = reason.length > 0 ? `: ${reason.toString('utf8')}` : ''
          this.#error = `agent ended the stream abnormally (close code ${code}${why})`
        }

        this.#socket.resetAndDestroy()
      }
    }

    this.#finish()
  }

  /**
   * Nothing has been read from the local socket yet, so the connection can still be carried
   * elsewhere: the first failed dial is offered to `redial`, once, before failing.
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
    if (this.#error === undefined) {
      this.#error = reason
      debug('#%d failed: %s', this.id, reason)
    }

    if (!this.#socketClosed && !this.#socket.destroyed) this.#socket.resetAndDestroy()
    const ws = this.#ws
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate()
  }

  /** A polite close, bounded: a peer that never answers the close frame is cut. */
  #closeStream(code: number): void {
    const ws = this.#ws!
    ws.close(code)
    this.#closeTimer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS)
    this.#closeTimer.unref()
  }

  #finish(): void {
    if (!this.#socketClosed || !(this.#wsClosed || !this.#ws)) return

    clearTimeout(this.#closeTimer)
    clearTimeout(this.#halfCloseTimer)
    this.#resolve({bytesDown: this.#bytesDown, bytesUp: this.#bytesUp, error: this.#error})
  }
}
