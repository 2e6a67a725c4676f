import type {Got, RequestError} from 'got'

import createDebug from 'debug'

import {ControlPlaneError} from '../errors/index.js'
import {describeProblem} from '../protocol/problem-details.js'
import {redactUrl, redactUrls} from '../redact/redact-url.js'
import type {ControlPlaneConfig} from './control-plane-config.js'
import {certificateAdvice, isCertificateError} from './tls-trust.js'

const debug = createDebug('caractrl:port-forward:control-plane')

/** Bounds of one resolution; see `ControlPlaneClient`. */
export interface RequestBudget {
  /** Longest wait for one attempt, headers and body included. */
  attemptTimeoutMs: number
  /** Longest wait in all, retries and their pauses included. */
  totalTimeoutMs: number
}

export const DEFAULT_BUDGET: RequestBudget = {attemptTimeoutMs: 5000, totalTimeoutMs: 15_000}

/** A 404 or another refusal, with the status kept so the resolver can name what is missing. */
export class ControlPlaneHttpError extends ControlPlaneError {
  readonly status: number

  constructor(status: number, message: string) {
    super(status === 401 || status === 403 ? 'unauthorized' : 'http-error', message)
    this.status = status
  }
}

/**
 * Reads resources from the control plane. GETs are retried on network failures and on 5xx,
 * a little, within one total budget, so that a flaky proxy costs a second and not a rerun,
 * and a dead control plane is reported within the budget, never later.
 */
export class ControlPlaneClient {
  #got: Got
  #config: ControlPlaneConfig
  #budget: RequestBudget

  private constructor(got: Got, config: ControlPlaneConfig, budget: RequestBudget) {
    this.#got = got
    this.#config = config
    this.#budget = budget
  }

  /** got is loaded here, on first use, so that `--node` and `--help` never pay for it. */
  static async create(
    config: ControlPlaneConfig, budget: RequestBudget = DEFAULT_BUDGET,
  ): Promise<ControlPlaneClient> {
    const {got} = await import('got')
    const headers: Record<string, string> = {...config.headers, accept: 'application/json'}
    if (config.token) headers.authorization = `Bearer ${config.token}`

    const client = got.extend({
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
        maxRetryAfter: 2000,
        methods: ['GET'],
        statusCodes: [408, 429, 500, 502, 503, 504],
      },
      throwHttpErrors: false,
      timeout: {request: budget.attemptTimeoutMs},
    })
    return new ControlPlaneClient(client, config, budget)
  }

  /** The URL of the control plane, safe to print. */
  get displayUrl(): string {
    return redactUrl(this.#config.url)
  }

  /** GETs `path` below the control-plane URL and returns the parsed JSON body. */
  async getJson(path: string, signal: AbortSignal): Promise<unknown> {
    const url = this.#resolve(path)
    debug('GET %s', redactUrl(url))
    let response
    try {
      response = await this.#got.get(url, {signal})
    } catch (error) {
      throw this.#networkError(error as RequestError, path, signal)
    }

    const {body, statusCode, statusMessage} = response
    debug('GET %s -> %d', redactUrl(url), statusCode)
    if (statusCode < 200 || statusCode >= 300) {
      const problem = describeProblem(statusCode, statusMessage ?? '', body)
      throw new ControlPlaneHttpError(statusCode, problem)
    }

    try {
      return JSON.parse(body)
    } catch {
      throw new ControlPlaneError(
        'bad-answer',
        `control plane at ${this.displayUrl} answered GET ${path} with a body that is not JSON: ` +
        'check that --server points at the control plane and not at a proxy page',
      )
    }
  }

  /** The bounds of every resolution, for messages and for polling. */
  get budget(): RequestBudget {
    return this.#budget
  }

  /** Starts the one budget that every request of a resolution shares. */
  budgetSignal(): AbortSignal {
    return AbortSignal.timeout(this.#budget.totalTimeoutMs)
  }

  #resolve(path: string): URL {
    const base = new URL(this.#config.url)
    if (!base.pathname.endsWith('/')) base.pathname += '/'
    return new URL(path.replace(/^\//, ''), base)
  }

  #networkError(error: RequestError, path: string, signal: AbortSignal): ControlPlaneError {
    const where = `the control plane at ${this.displayUrl}`
    if (isCertificateError(error)) {
      const advice = certificateAdvice({caSource: this.#config.caSource, rejectUnauthorized: true})
      return new ControlPlaneError(
        'certificate',
        `cannot verify the certificate of ${where} (${error.message}): ${advice}`,
        {cause: error},
      )
    }

    const next = 'check --server, CARACTRL_SERVER or your caractrl login, then retry'
    if (signal.aborted) {
      const seconds = this.#budget.totalTimeoutMs / 1000
      return new ControlPlaneError(
        'timeout',
        `${where} did not answer GET ${path} within ${seconds}s (retries included): ${next}`,
        {cause: error},
      )
    }

    if (error.name === 'TimeoutError') {
      const seconds = this.#budget.attemptTimeoutMs / 1000
      return new ControlPlaneError(
        'timeout', `${where} did not answer GET ${path} within ${seconds}s: ${next}`, {cause: error},
      )
    }

    const cause = redactUrls(error.code && !error.message.includes(error.code) ?
      `${error.code} ${error.message}` :
      error.message)
    return new ControlPlaneError('unreachable', `cannot reach ${where}: ${cause}; ${next}`, {cause: error})
  }
}
