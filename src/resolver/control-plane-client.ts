import type {ClientRequest} from 'node:http'
import type {Agent as HttpsAgent} from 'node:https'
import type {Socket} from 'node:net'

import type {CancelableRequest, Got, RequestError, Response} from 'got'

import createDebug from 'debug'

import {ControlPlaneError} from '../errors/index.js'
import {describeProxy, type ProxySettings} from '../proxy/proxy-settings.js'
import {describeProblem, isProblemDetails, parseProblem} from '../protocol/problem-details.js'
import {redactUrl, redactUrls} from '../redact/redact-url.js'
import type {ControlPlaneConfig} from './control-plane-config.js'
import {DEFAULT_ATTEMPT_TIMEOUT_MS, showSeconds, type ResolveBudget} from './resolve-budget.js'
import {certificateAdvice, isCertificateError} from './tls-trust.js'

const debug = createDebug('caractrl:port-forward:control-plane')

/** How each control-plane request is bounded, apart from the resolution's budget. */
export interface ClientOptions {
  /** Longest wait for one attempt, headers and body included. */
  attemptTimeoutMs: number
  /** The proxy settings of the environment; requests go direct without them. */
  proxy?: ProxySettings
}

/** The longest pause a `Retry-After` may impose; a longer one is shortened to this. */
export const MAX_RETRY_AFTER_MS = 2000

/** Only reads are retried: repeating them cannot change anything on the control plane. */
const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const

/** How far one attempt got, so that a timeout can say what was missing. */
type Progress = {attempts: number; stage: 'connecting' | 'headers' | 'body'; bytes: number}

/**
 * Largest control-plane answer read. Projects and nodes are a few KiB; anything far larger
 * is not one, and reading it all would hold it all in memory.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024

/** A 404 or another refusal, with the status kept so the resolver can name what is missing. */
export class ControlPlaneHttpError extends ControlPlaneError {
  readonly status: number
  /** The answer was Problem Details, as the control plane's own are. */
  readonly problemDetails: boolean

  constructor(status: number, message: string, problemDetails = false) {
    super(status === 401 || status === 403 ? 'unauthorized' : 'http-error', message)
    this.status = status
    this.problemDetails = problemDetails
  }
}

/**
 * Reads resources from the control plane. Reads are retried on network failures and on 5xx,
 * a little, so that a flaky proxy costs a second and not a rerun; every attempt and pause of
 * a resolution draws on its one `ResolveBudget`, so that a dead control plane is reported
 * within that budget, never later.
 */
export class ControlPlaneClient {
  #got: Got
  #config: ControlPlaneConfig
  #options: ClientOptions

  private constructor(got: Got, config: ControlPlaneConfig, options: ClientOptions) {
    this.#got = got
    this.#config = config
    this.#options = options
  }

  /** got is loaded here, on first use, so that `--node` and `--help` never pay for it. */
  static async create(
    config: ControlPlaneConfig,
    options: ClientOptions = {attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS},
  ): Promise<ControlPlaneClient> {
    const {got} = await import('got')
    const headers: Record<string, string> = {...config.headers, accept: 'application/json'}
    if (config.token) headers.authorization = `Bearer ${config.token}`

    const agent = options.proxy?.agentFor(config.url, {tunnel: false})
    const client = got.extend({
      agent: {http: agent, https: agent as HttpsAgent | undefined},
      headers,
      https: {
        certificateAuthority: config.ca,
        rejectUnauthorized: !config.insecureSkipTlsVerify,
      },
      responseType: 'text',
      retry: {
        errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND',
          'ENETUNREACH', 'EAI_AGAIN'],
        limit: 2,
        // got gives up outright on a Retry-After above its limit; the limit is lifted here so
        // that `pauseBeforeRetry` can shorten the pause instead, and fit it in the budget.
        maxRetryAfter: Number.MAX_SAFE_INTEGER,
        methods: [...IDEMPOTENT_METHODS],
        statusCodes: [408, 429, 500, 502, 503, 504],
      },
      throwHttpErrors: false,
      timeout: {request: options.attemptTimeoutMs},
    })
    return new ControlPlaneClient(client, config, options)
  }

  /** The control plane's URL as messages show it, with the proxy in front of it if any. */
  get shownAs(): string {
    const choice = this.#options.proxy?.choose(this.#config.url)
    return this.displayUrl + (choice ? ` (through ${describeProxy(choice)})` : '')
  }

  /** The URL of the control plane, safe to print. */
  get displayUrl(): string {
    return redactUrl(this.#config.url)
  }

  /** GETs `path` below the control-plane URL within `budget`; returns the parsed JSON body. */
  async getJson(path: string, budget: ResolveBudget): Promise<unknown> {
    const url = this.#resolve(path)
    debug('GET %s', redactUrl(url))
    const progress: Progress = {attempts: 0, bytes: 0, stage: 'connecting'}
    let response
    try {
      const request = this.#got.get<string>(url, {
        retry: {calculateDelay: ({computedValue}) => pauseBeforeRetry(computedValue, budget)},
        signal: budget.signal,
      })
      track(request, progress)
      request.on('downloadProgress', ({transferred}: {transferred: number}) => {
        if (transferred > MAX_ANSWER_BYTES) request.cancel()
      })
      response = await request
    } catch (error) {
      if (progress.bytes > MAX_ANSWER_BYTES) {
        throw new ControlPlaneError(
          'answer-too-large',
          `control plane at ${this.shownAs} answered GET ${path} with more than ` +
          `${MAX_ANSWER_BYTES / 1024 / 1024} MiB, far more than a project or node: ` +
          'check that --server points at the control plane',
        )
      }

      throw this.#networkError(error as RequestError, path, budget, progress)
    }

    const {body, headers, statusCode, statusMessage} = response
    debug('GET %s -> %d after %d attempt(s)', redactUrl(url), statusCode, progress.attempts)
    if (statusCode < 200 || statusCode >= 300) {
      const problem = describeProblem(statusCode, statusMessage ?? '', body)
      const retryAfter = headers['retry-after']?.slice(0, 40)
      // A long Retry-After was shortened; saying what was asked explains the failure.
      const asked = retryAfter ?
        ` (it asked to retry after ${/^\d+$/.test(retryAfter) ? `${retryAfter}s` : retryAfter})` :
        ''
      throw new ControlPlaneHttpError(statusCode, problem + asked,
        isProblemDetails(parseProblem(body)))
    }

    try {
      return JSON.parse(body)
    } catch {
      throw new ControlPlaneError(
        'bad-answer',
        `control plane at ${this.shownAs} answered GET ${path} with a body that is not JSON: ` +
        'check that --server points at the control plane and not at a proxy page',
      )
    }
  }

  #resolve(path: string): URL {
    const base = new URL(this.#config.url)
    if (!base.pathname.endsWith('/')) base.pathname += '/'
    return new URL(path.replace(/^\//, ''), base)
  }

  #networkError(
    error: RequestError, path: string, budget: ResolveBudget, progress: Progress,
  ): ControlPlaneError {
    const where = `the control plane at ${this.shownAs}`
    if (isCertificateError(error)) {
      const advice = certificateAdvice({caSource: this.#config.caSource, rejectUnauthorized: true})
      return new ControlPlaneError(
        'certificate',
        `cannot verify the certificate of ${where} (${redactUrls(error.message)}): ${advice}`,
        {cause: error},
      )
    }

    const next = 'check --server, CARACTRL_SERVER or your caractrl login, then retry'
    const attempts = progress.attempts === 1 ? '1 attempt' : `${progress.attempts} attempts`
    if (budget.signal.aborted) {
      const waited = budget.extendedMs > 0 ?
        ` (plus ${showSeconds(budget.extendedMs)} of --running-timeout)` :
        ''
      return new ControlPlaneError(
        'timeout',
        `${where} did not answer GET ${path} within the ${showSeconds(budget.totalMs)} ` +
        `--resolve-timeout${waited}: ${stageText(progress)} (${attempts}); ` +
        `${next}, or allow more time with --resolve-timeout`,
        {cause: error},
      )
    }

    if (error.name === 'TimeoutError') {
      const seconds = showSeconds(this.#options.attemptTimeoutMs)
      return new ControlPlaneError(
        'timeout',
        `${where} did not answer GET ${path} within the ${seconds} --request-timeout: ` +
        `${stageText(progress)} (${attempts}); ${next}`,
        {cause: error},
      )
    }

    const cause = redactUrls(error.code && !error.message.includes(error.code) ?
      `${error.code} ${error.message}` :
      error.message)
    return new ControlPlaneError(
      'unreachable',
      `cannot reach ${where}: ${cause}; ${next}`,
      {cause: error},
    )
  }
}

/**
 * The pause before the next attempt: got's backoff or the server's `Retry-After`, shortened
 * to `MAX_RETRY_AFTER_MS`. No retry when the pause would outlast the budget: the answer in
 * hand then says more than a timeout would.
 */
export function pauseBeforeRetry(computedMs: number, budget: ResolveBudget): number {
  if (computedMs <= 0) return 0

  const pauseMs = Math.min(computedMs, MAX_RETRY_AFTER_MS)
  return pauseMs < budget.remainingMs() ? pauseMs : 0
}

/** Follows one request through its attempts: connected, headers in, body bytes so far. */
function track(request: CancelableRequest<Response<string>>, progress: Progress): void {
  request.on('request', (clientRequest: ClientRequest) => {
    progress.attempts++
    progress.stage = 'connecting'
    progress.bytes = 0
    clientRequest.once('socket', (socket: Socket) => {
      if (!socket.connecting) {
        progress.stage = 'headers'
        return
      }

      socket.once('connect', () => {
        progress.stage = 'headers'
      })
    })
  })
  // got reports progress from the moment the headers are in, and 'response' only at the end.
  request.on('downloadProgress', ({transferred}: {transferred: number}) => {
    progress.stage = 'body'
    progress.bytes = transferred
  })
}

function stageText(progress: Progress): string {
  switch (progress.stage) {
    case 'connecting': {
      return 'the connection was never accepted'
    }

    case 'headers': {
      return 'no response headers arrived'
    }

    case 'body': {
      return `the body was still arriving, ${progress.bytes} bytes so far`
    }
  }
}
