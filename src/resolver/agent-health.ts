import type {Agent} from 'node:http'

import type {AgentAddress} from '../args/node-address.js'
import {isCertificateError, type TlsTrust} from './tls-trust.js'

/** Long enough for a distant node, short enough not to hold up a forward that works. */
export const HEALTH_TIMEOUT_MS = 1500

/** What `/healthz` of an agent told, or why it told nothing. */
export type HealthResult =
  | {ok: true}
  | {ok: false; reason: string; certificate: boolean}

/**
 * Asks the agent's `/healthz`, with the same TLS trust the tunnels use and no credentials at
 * all. It never throws: the caller decides whether a silent agent matters.
 */
export async function checkAgentHealth(
  agent: AgentAddress, trust: TlsTrust, timeoutMs = HEALTH_TIMEOUT_MS, via?: Agent,
): Promise<HealthResult> {
  const secure = agent.scheme === 'wss:'
  // Loading TLS takes a few milliseconds of every start; a plain agent does without it.
  const {request} = secure ? await import('node:https') : await import('node:http')
  return new Promise((resolve) => {
    const req = request({
      agent: via,
      ca: secure ? trust.ca : undefined,
      host: agent.host,
      method: 'GET',
      path: '/healthz',
      port: agent.port,
      rejectUnauthorized: secure ? trust.rejectUnauthorized : undefined,
      timeout: timeoutMs,
    }, (response) => {
      response.resume()
      const status = response.statusCode ?? 0
      resolve(status === 200 ?
        {ok: true} :
        {certificate: false, ok: false, reason: `it answered HTTP ${status}`})
      req.destroy()
    })
    req.on('timeout', () => {
      req.destroy()
      resolve({certificate: false, ok: false, reason: `no answer within ${timeoutMs / 1000}s`})
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code && !error.message.includes(error.code) ?
        `${error.code} ${error.message}` :
        error.message
      resolve({certificate: isCertificateError(error), ok: false, reason})
    })
    req.end()
  })
}
