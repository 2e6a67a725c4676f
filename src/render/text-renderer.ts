import type {ForwardEvent} from '../events/forward-event.js'

export type Verbosity = 'quiet' | 'normal' | 'verbose'

/**
 * Turns events into the lines a person reads on stderr. By default: readiness, warnings and
 * failed connections; `quiet` keeps failures only; `verbose` adds every connection.
 */
export class TextRenderer {
  #write: (line: string) => void
  #verbosity: Verbosity
  #target: string

  constructor(write: (line: string) => void, target: string, verbosity: Verbosity = 'normal') {
    this.#write = write
    this.#target = target
    this.#verbosity = verbosity
  }

  render(event: ForwardEvent): void {
    const line = this.#format(event)
    if (line !== undefined) this.#write(printable(line))
  }

  #format(event: ForwardEvent): string | undefined {
    const quiet = this.#verbosity === 'quiet'
    const verbose = this.#verbosity === 'verbose'
    switch (event.type) {
      case 'ready': {
        if (quiet) return
        const address = event.address.includes(':') ? `[${event.address}]` : event.address
        return `Forwarding from ${address}:${event.port} -> ${event.target}:${event.remotePort}`
      }

      case 'warning': {
        return quiet ? undefined : `Warning: ${event.message}`
      }

      case 'info': {
        return quiet ? undefined : event.message
      }

      case 'connection-open': {
        if (!verbose) return
        return `Connection #${event.id} from ${event.peer} -> ${this.#target}:${event.remotePort}`
      }

      case 'connection-close': {
        const where = `Connection #${event.id} -> ${this.#target}:${event.remotePort}`
        if (event.error) return `${where} failed: ${event.error}`
        if (!verbose) return
        const how = event.clientReset ? 'reset by the local client' : 'closed'
        return `${where} ${how}: ${event.bytesUp} bytes sent, ${event.bytesDown} received, ` +
          `${(event.durationMs / 1000).toFixed(1)}s`
      }

      case 'draining': {
        if (quiet) return
        if (event.remaining === 0) return 'Stopping: no connections open'
        const connections = event.remaining === 1 ?
          '1 connection' :
          `${event.remaining} connections`
        const limit = event.timeoutMs ? ` (at most ${event.timeoutMs / 1000}s)` : ''
        return `Stopping: waiting for ${connections} to finish${limit}; ` +
          'press Ctrl-C again to close them now'
      }

      case 'stopped': {
        if (quiet && event.cut === 0) return
        if (event.cut === 0) return 'Stopped'
        return 'Stopped; closed ' +
          `${event.cut === 1 ? '1 open connection' : `${event.cut} open connections`}`
      }

      case 'error': {
        return `Error: ${event.message}`
      }

      case 'exit': {
        return undefined
      }
    }
  }
}

/**
 * Text from servers (a Problem Details `detail`, a close reason) reaches these lines. Control
 * characters are shown escaped, so that no answer can clear the screen, recolour it, or make
 * one line look like several.
 */
function printable(line: string): string {
  return line.replaceAll(/[\u0000-\u001F\u007F-\u009F]/g, (char) => {
    const code = char.codePointAt(0)!
    return char === '\n' ? '\\n' :
      char === '\r' ? '\\r' :
      `\\x${code.toString(16).padStart(2, '0')}`
  })
}
