import {isIP} from 'node:net'

import {UsageError} from '../errors/index.js'

/** One address to listen on. */
export interface ListenAddress {
  host: string
  /**
   * May be missing on this machine (IPv6 loopback on a host without IPv6): binding it then
   * only warns. Any other failure, a port in use above all, is fatal.
   */
  optional: boolean
}

/** What `localhost` means: IPv4 loopback always, IPv6 loopback where the host has it. */
const LOCALHOST: ListenAddress[] = [
  {host: '127.0.0.1', optional: false},
  {host: '::1', optional: true},
]

/**
 * Reads `--address` values, each an IP address or `localhost`, repeated or comma-separated.
 * Host names other than `localhost` are refused: which address a name resolves to can change,
 * and a forward must listen exactly where the user was told it does.
 */
export function parseListenAddresses(values: string[]): ListenAddress[] {
  const words = values.flatMap((value) => value.split(',')).map((word) => word.trim())
  const addresses: ListenAddress[] = []
  for (const word of words) {
    const next = word === 'localhost' ? LOCALHOST : [{host: ipOf(word), optional: false}]
    for (const address of next) {
      if (!addresses.some(({host}) => host === address.host)) addresses.push(address)
    }
  }

  if (addresses.length === 0) {
    throw new UsageError('--address is empty: give an IP address or localhost')
  }
  return addresses
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === '::1' || /^(::ffff:)?127\./i.test(host)
}

function ipOf(word: string): string {
  const host = word.startsWith('[') && word.endsWith(']') ? word.slice(1, -1) : word
  if (isIP(host) === 0) {
    throw new UsageError(
      `--address "${word}" is not an IP address: use e.g. 127.0.0.1, ::1, 0.0.0.0 or localhost`,
    )
  }

  return host
}
