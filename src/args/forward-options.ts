import {UsageError} from '../errors/index.js'
import {parseDuration} from './duration.js'
import {isLoopback, type ListenAddress, parseListenAddresses} from './listen-address.js'
import {type AgentAddress, parseNodeAddress} from './node-address.js'
import {parsePortSpecs, type PortSpec} from './port-spec.js'
import {parseTarget, type Target} from './target.js'

/** The command's flags as oclif hands them over, before any of them is checked. */
export interface RawFlags {
  address: string[]
  'allow-non-loopback': boolean
  'connect-timeout': string
  'drain-timeout'?: string
  node?: string
  output: string
  'ping-interval': string
  'request-timeout': string
  'resolve-timeout': string
  'running-timeout': string
  stdio: boolean
}

/** Everything a forward needs to know from the command line, checked and in its own units. */
export interface ForwardOptions {
  target: Target
  specs: PortSpec[]
  addresses: ListenAddress[]
  /** Addresses other machines can reach; each deserves a warning. */
  exposed: string[]
  node?: AgentAddress
  stdio: boolean
  connectTimeoutMs: number
  pingIntervalMs: number
  drainTimeoutMs?: number
  runningTimeoutMs: number
  requestTimeoutMs: number
  resolveTimeoutMs: number
}

/** Checks the words and flags of one run; every mistake is a one-line usage error. */
export function readForwardOptions(words: string[], flags: RawFlags): ForwardOptions {
  const [targetWord, ...portWords] = words
  if (!targetWord) {
    throw new UsageError(
      'missing target: run caractrl port-forward <project>/<service> REMOTE_PORT',
    )
  }

  const target = parseTarget(targetWord)
  const specs = parsePortSpecs(portWords)
  if (flags.stdio) checkStdio(portWords, flags)

  const addresses = parseListenAddresses(flags.address)
  const exposed = flags.stdio ?
    [] :
    addresses.filter(({host}) => !isLoopback(host)).map(({host}) => host)
  if (exposed.length > 0 && flags.output === 'json' && !flags['allow-non-loopback']) {
    throw new UsageError(
      `--address ${exposed.join(', ')} can be reached from other machines: ` +
      'add --allow-non-loopback to confirm',
    )
  }

  const requestTimeoutMs = parseDuration(flags['request-timeout'], 'request-timeout')
  if (requestTimeoutMs === 0) throw new UsageError('--request-timeout must be more than 0, e.g. 5s')
  const resolveTimeoutMs = parseDuration(flags['resolve-timeout'], 'resolve-timeout')
  if (resolveTimeoutMs === 0) {
    throw new UsageError('--resolve-timeout must be more than 0, e.g. 15s')
  }

  return {
    addresses,
    connectTimeoutMs: parseDuration(flags['connect-timeout'], 'connect-timeout'),
    drainTimeoutMs: flags['drain-timeout'] === undefined ?
      undefined :
      parseDuration(flags['drain-timeout'], 'drain-timeout'),
    exposed,
    node: flags.node === undefined ? undefined : parseNodeAddress(flags.node),
    pingIntervalMs: parseDuration(flags['ping-interval'], 'ping-interval'),
    requestTimeoutMs,
    resolveTimeoutMs,
    runningTimeoutMs: parseDuration(flags['running-timeout'], 'running-timeout'),
    specs,
    stdio: flags.stdio,
    target,
  }
}

function checkStdio(portWords: string[], flags: RawFlags): void {
  if (portWords.length !== 1 || !/^\d+$/.test(portWords[0])) {
    throw new UsageError('--stdio carries one port and listens on none: give a single REMOTE_PORT')
  }

  if (flags.output === 'json') {
    throw new UsageError('--stdio uses stdout for the stream, so --output json cannot share it')
  }
}
