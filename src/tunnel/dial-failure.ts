import type {AgentEndpoint} from './agent-endpoint.js'

/**
 * Why a tunnel could not be opened, reported before any byte of the connection flowed, when
 * it is still safe to dial somewhere else.
 */
export interface DialFailure {
  /** The URL that was dialled. */
  url: string
  /** HTTP status of a refused upgrade. */
  status?: number
  /** System error code of a failed connection, such as `ECONNREFUSED`. */
  code?: string
  /** The agent did not complete the handshake within the connect timeout. */
  timedOut: boolean
  /** The line the connection would fail with. */
  reason: string
}

/** Offered one failed dial of a connection: another endpoint to try, or nothing to give up. */
export type Redial = (failure: DialFailure) => Promise<AgentEndpoint | undefined>
