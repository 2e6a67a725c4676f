import {isIP} from 'node:net'

import {UsageError} from '../errors/index.js'
import {redactUrls} from '../redact/redact-url.js'

/** Where an agent listens, as the tunnel dials it. */
export interface AgentAddress {
  /** `ws:` or `wss:`. */
  scheme: 'ws:' | 'wss:'
  /** A host name or IP address; IPv6 without brackets. */
  host: string
  port: number
}

const NODE = /^(?:(wss?):\/\/)?(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})\/?$/i

/**
 * Reads `--node`: `host:port`, `[v6]:port`, optionally behind `ws://` or `wss://`. A port is
 * required, because guessing one would hide a typo.
 */
export function parseNodeAddress(value: string): AgentAddress {
  const match = NODE.exec(value.trim())
  const port = match ? Number(match[3]) : 0
  if (!match || port < 1 || port > 65_535) throw malformed(value)

  let host = match[2]
  if (host.startsWith('[')) {
    host = host.slice(1, -1)
    if (isIP(host) !== 6) throw malformed(value)
  }

  const scheme = match[1]?.toLowerCase() === 'wss' ? 'wss:' : 'ws:'
  return {host, port, scheme}
}

/** `host:port` with IPv6 hosts in brackets, as people write addresses. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

function malformed(value: string): UsageError {
  // A mistyped address may still carry credentials; the message shows it without them.
  const shown = redactUrls(value).replace(/^([^/@\s]*\/\/)?[^/@\s]*@/, '$1***@')
  return new UsageError(
    `--node "${shown}" is not valid: write host:port, [IPv6]:port or wss://host:port, ` +
    'e.g. 10.0.0.7:9090 or [::1]:9090',
  )
}
