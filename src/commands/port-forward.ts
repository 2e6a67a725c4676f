import {Command, Flags} from '@oclif/core'

import createDebug from 'debug'

import {parseDuration} from '../args/duration.js'
import {isLoopback, parseListenAddresses} from '../args/listen-address.js'
import {parseNodeAddress} from '../args/node-address.js'
import {parsePortSpecs} from '../args/port-spec.js'
import {parseTarget} from '../args/target.js'
import {ExitCode, isForwardError, UsageError} from '../errors/index.js'
import type {EmitEvent} from '../events/forward-event.js'
import {listenForStop} from '../lifecycle/stop-signals.js'
import {redactUrls} from '../redact/redact-url.js'
import {redactDebugOutput} from '../redact/redacting-debug.js'
import {Output} from '../render/output.js'
import {openAgentSource} from '../resolver/agent-source.js'
import {Forwarder} from '../tunnel/forwarder.js'

const debug = createDebug('caractrl:port-forward')
// In any host, at least the lines of this plugin and its libraries are redacted.
redactDebugOutput()

export default class PortForward extends Command {
  static summary = 'Forward local ports to a port of a service\'s container.'

  static description = `Listens on 127.0.0.1 and carries each connection it accepts through its own \
WebSocket to the agent of the node that runs the project, which connects it to REMOTE_PORT of \
the service's container.

The agent is found through the control plane (project, then its node, then the node's address) \
using your caractrl login, or given directly with --node.

Ports: two bare numbers are REMOTE_PORT then LOCAL_PORT ("5432 15432" listens on 15432). \
LOCAL:REMOTE, as in kubectl, reads the other way round ("15432:5432" listens on 15432 too). \
":REMOTE" or a LOCAL_PORT of 0 lets the system choose a free local port. Several LOCAL:REMOTE \
pairs may be given at once.

Ctrl-C stops accepting and waits for open connections to finish; a second Ctrl-C closes them.

Exit status: 0 stopped cleanly; 1 internal error; 2 usage error; 3 control plane unreachable \
or unusable; 4 project, service or node cannot be forwarded to; 5 a local port cannot be \
listened on; 6 stopped with connections cut.`

  static usage = [
    'port-forward PROJECT/SERVICE REMOTE_PORT [LOCAL_PORT] [FLAGS]',
    'port-forward PROJECT/SERVICE [LOCAL_PORT:]REMOTE_PORT... [FLAGS]',
  ]

  static examples = [
    {command: '<%= config.bin %> <%= command.id %> shop/db 5432', description: 'Reach shop/db\'s port 5432 at 127.0.0.1:5432.'},
    {command: '<%= config.bin %> <%= command.id %> shop/db 5432 15432', description: 'The same at local port 15432 (REMOTE_PORT first).'},
    {command: '<%= config.bin %> <%= command.id %> shop/db 15432:5432', description: 'The same in kubectl\'s order (LOCAL:REMOTE).'},
    {command: '<%= config.bin %> <%= command.id %> shop/web 8080:80 :9229', description: 'Two ports; the system chooses the second local port.'},
    {command: '<%= config.bin %> <%= command.id %> shop/db 5432 --node 10.0.0.7:9090', description: 'Skip the control plane and use this agent.'},
  ]

  static strict = false

  static args = {}

  static flags = {
    address: Flags.string({
      default: ['localhost'],
      description: 'Where to listen: IP addresses or localhost (127.0.0.1 and, where present, ::1). ' +
        'Repeat it or separate with commas.',
      helpValue: 'ADDRESS',
      multiple: true,
    }),
    'allow-non-loopback': Flags.boolean({
      description: 'With --output json, allow an --address that other machines can reach.',
    }),
    output: Flags.option({
      default: 'text',
      description: 'json: also write every event as one JSON object per line on stdout.',
      options: ['text', 'json'] as const,
    })(),
    quiet: Flags.boolean({
      char: 'q',
      description: 'Print errors only.',
      exclusive: ['verbose'],
    }),
    verbose: Flags.boolean({
      char: 'v',
      description: 'Also print a line for every connection opened and closed.',
      exclusive: ['quiet'],
    }),
    node: Flags.string({
      description: 'Agent to use, as host:port, [v6]:port or wss://host:port; skips the control plane.',
      helpValue: 'HOST:PORT',
    }),
    server: Flags.string({
      description: 'Control-plane URL for this run; overrides the caractrl login and CARACTRL_SERVER.',
      helpValue: 'URL',
    }),
    'certificate-authority': Flags.string({
      description: 'PEM file of the CA that signed the control plane\'s and agents\' certificates; ' +
        'overrides the caractrl login and CARACTRL_CA_FILE.',
      helpValue: 'FILE',
    }),
    'insecure-skip-tls-verify': Flags.boolean({
      description: 'Do not check certificates of the control plane and agents (prints a warning).',
    }),
    'resolve-timeout': Flags.string({
      default: '15s',
      description: 'Longest wait for finding the agent at start-up: host hooks and every ' +
        'control-plane request, retries and their pauses included.',
      helpValue: 'DURATION',
    }),
    'running-timeout': Flags.string({
      default: '60s',
      description: 'Longest wait for a Pending or Scheduled project to be Running, as kubectl\'s ' +
        '--pod-running-timeout; it adds to --resolve-timeout once the project is seen waiting. ' +
        '0 fails at once.',
      helpValue: 'DURATION',
    }),
    'request-timeout': Flags.string({
      default: '5s',
      description: 'Longest wait for one control-plane attempt, body included; failed reads are ' +
        'retried within --resolve-timeout.',
      helpValue: 'DURATION',
    }),
    'connect-timeout': Flags.string({
      default: '10s',
      description: 'Longest wait for the agent to accept a new tunnel.',
      helpValue: 'DURATION',
    }),
    'ping-interval': Flags.string({
      default: '20s',
      description: 'Keepalive ping on every tunnel; a tunnel whose agent stops answering is closed. 0 turns it off.',
      helpValue: 'DURATION',
    }),
    'drain-timeout': Flags.string({
      description: 'After Ctrl-C, longest wait for open connections before closing them. Default: wait.',
      helpValue: 'DURATION',
    }),
  }

  #output: Output | undefined

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(PortForward)
    const [targetWord, ...portWords] = argv as string[]
    const verbosity = flags.quiet ? 'quiet' : flags.verbose ? 'verbose' : 'normal'
    const output = new Output({json: flags.output === 'json', target: targetWord ?? '', verbosity})
    this.#output = output
    const {emit} = output
    if (!targetWord) {
      throw new UsageError('missing target: run caractrl port-forward <project>/<service> REMOTE_PORT')
    }

    const target = parseTarget(targetWord)
    const specs = parsePortSpecs(portWords)
    const addresses = parseListenAddresses(flags.address)
    const node = flags.node === undefined ? undefined : parseNodeAddress(flags.node)
    const connectTimeoutMs = parseDuration(flags['connect-timeout'], 'connect-timeout')
    const pingIntervalMs = parseDuration(flags['ping-interval'], 'ping-interval')
    const drainTimeoutMs = flags['drain-timeout'] === undefined ?
      undefined :
      parseDuration(flags['drain-timeout'], 'drain-timeout')
    const exposed = addresses.filter(({host}) => !isLoopback(host)).map(({host}) => host)
    if (exposed.length > 0 && flags.output === 'json' && !flags['allow-non-loopback']) {
      throw new UsageError(
        `--address ${exposed.join(', ')} can be reached from other machines: ` +
        'add --allow-non-loopback to confirm',
      )
    }
    const runningTimeoutMs = parseDuration(flags['running-timeout'], 'running-timeout')
    const requestTimeoutMs = parseDuration(flags['request-timeout'], 'request-timeout')
    if (requestTimeoutMs === 0) throw new UsageError('--request-timeout must be more than 0, e.g. 5s')
    const resolveTimeoutMs = parseDuration(flags['resolve-timeout'], 'resolve-timeout')
    if (resolveTimeoutMs === 0) throw new UsageError('--resolve-timeout must be more than 0, e.g. 15s')

    const shownTarget = `${target.project}/${target.service}`
    for (const host of exposed) {
      emit({
        message: `listening on ${host}: ${shownTarget} becomes reachable from the network there`,
        type: 'warning',
      })
    }

    const routes = await openAgentSource({
      config: this.config,
      emit,
      env: process.env,
      flags: {
        certificateAuthority: flags['certificate-authority'],
        insecureSkipTlsVerify: flags['insecure-skip-tls-verify'],
        server: flags.server,
      },
      node,
      remotePorts: specs.map((spec) => spec.remote),
      requestTimeoutMs,
      resolveTimeoutMs,
      runningTimeoutMs,
      target,
    })

    const forwarder = new Forwarder({
      connectTimeoutMs,
      emit,
      endpointFor: (remotePort) => routes.endpointFor(remotePort),
      listeners: specs.map((spec) => ({addresses, port: spec.local, remotePort: spec.remote})),
      pingIntervalMs,
      redial: (remotePort, failure) => routes.redial(remotePort, failure),
    })

    // Signals are listened for before binding, so a Ctrl-C during start-up is not lost.
    const stop = listenForStop()
    try {
      const listening = await forwarder.start()
      for (const {host, port, remotePort} of listening) {
        const agent = routes.shown(remotePort)
        emit({address: host, agent, port, remotePort, target: shownTarget, type: 'ready'})
      }

      await stop.first
      const cut = await this.#shutdown(forwarder, stop.second, emit, drainTimeoutMs)
      emit({cut, type: 'stopped'})
      const code = cut > 0 ? ExitCode.Forced : ExitCode.Ok
      emit({code, type: 'exit'})
      await output.flush()
      if (code !== ExitCode.Ok) this.exit(code)
    } finally {
      stop.dispose()
    }
  }

  /** Prints errors as one line with an exit status of their own; stacks only under DEBUG. */
  async catch(error: Error & {oclif?: {exit?: number}; code?: string}): Promise<never> {
    if (error.code === 'EEXIT') throw error

    debug('%s', redactUrls(error.stack ?? error.message))
    const [message, reason, code] = isForwardError(error) ?
      [redactUrls(error.message), error.reason, error.exitCode] :
      error.oclif?.exit === ExitCode.Usage ?
        [
          `${redactUrls(error.message.split('\n')[0])}; see caractrl port-forward --help`,
          'usage',
          ExitCode.Usage,
        ] :
        [
          `unexpected failure: ${redactUrls(error.message)}; ` +
          'rerun with DEBUG=caractrl:* to see where, and report it',
          'internal',
          ExitCode.Internal,
        ]
    const output = this.#output ?? new Output({json: false, target: '', verbosity: 'normal'})
    output.emit({message, reason, type: 'error'})
    output.emit({code, type: 'exit'})
    await output.flush()
    this.exit(code)
  }

  /** Drains, or cuts what is left at a second signal or at the drain timeout. */
  async #shutdown(
    forwarder: Forwarder, second: Promise<unknown>, emit: EmitEvent, drainTimeoutMs?: number,
  ): Promise<number> {
    const drained = forwarder.drain()
    emit({remaining: forwarder.active, timeoutMs: drainTimeoutMs, type: 'draining'})
    if (forwarder.active === 0) {
      await drained
      return 0
    }

    let timer: NodeJS.Timeout | undefined
    const timedOut = drainTimeoutMs === undefined ?
      new Promise<never>(() => {}) :
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, drainTimeoutMs)
      })
    const outcome = await Promise.race([
      drained.then(() => 'drained' as const),
      second.then(() => 'signal' as const),
      timedOut.then(() => 'timeout' as const),
    ])
    clearTimeout(timer)
    if (outcome === 'drained') return 0

    const reason = outcome === 'signal' ?
      'closed by a second stop signal' :
      `still open after the ${drainTimeoutMs! / 1000}s drain timeout`
    const cut = forwarder.cut(reason)
    await drained
    return cut
  }

}
