/**
 * What the resolver and the tunnel report while a forward runs. They only describe what
 * happened; the renderer decides what a person or a script gets to see.
 */
export type ForwardEvent =
  | {type: 'warning'; message: string}
  | {type: 'info'; message: string}
  | {
    type: 'ready'
    address: string
    port: number
    target: string
    remotePort: number
    agent: string
  }
  | {type: 'connection-open'; id: number; localPort: number; remotePort: number; peer: string}
  | {
    type: 'connection-close'
    id: number
    remotePort: number
    bytesUp: number
    bytesDown: number
    durationMs: number
    error?: string
    /** Ended by the local client's reset: not a failure, so only `--verbose` shows it. */
    clientReset?: true
  }
  | {type: 'draining'; remaining: number; timeoutMs?: number}
  | {type: 'stopped'; cut: number}
  | {type: 'error'; message: string; reason: string}
  | {type: 'exit'; code: number}

export type EmitEvent = (event: ForwardEvent) => void
