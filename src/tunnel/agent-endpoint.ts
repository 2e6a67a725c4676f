import type {Agent} from 'node:http'

/**
 * Everything the tunnel needs to open one stream: the forward URL of the agent and what to
 * send with the upgrade. How it was found (control plane, `--node`, a host hook) is not the
 * tunnel's concern.
 */
export interface AgentEndpoint {
  /** `ws:` or `wss:` URL of the forward endpoint, path included. */
  url: string
  /** Headers for the upgrade request; only ever what the endpoint's source chose to send. */
  headers?: Record<string, string>
  /** TLS settings for `wss:`. */
  tls?: {ca?: string | Buffer; rejectUnauthorized?: boolean}
  /** Dials through this agent (a proxy) instead of connecting directly. */
  agent?: Agent
}
