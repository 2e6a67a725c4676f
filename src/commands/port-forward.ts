import type {Socket} from 'node:net'

import {Command, Flags} from '@oclif/core'
import createDebug from 'debug'

import {readForwardOptions} from '../args/forward-options.js'
import {ExitCode, isForwardError} from '../errors/index.js'
import type {EmitEvent} from '../events/forward-event.js'
import {listenForStop, type StopRequests} from '../lifecycle/stop-signals.js'
import {redactUrls} from '../redact/redact-url.js'
import {redactDebugOutput} from '../redact/redacting-debug.js'
import {Output} from '../render/output.js'
import {openAgentSource} from '../resolver/agent-source.js'
import {Forwarder} from '../tunnel/forwarder.js'

const debug = createDebug('caractrl:port-forward')
// In any host, at least the lines of this plugin and its libraries are redacted.
redactDebugOutput()

/** How a run ended: its exit status and how many connections it had to cut. */
interface Outcome {
  code: ExitCode
  cut: number
}

export default class PortForward extends Command {
  static summary = 'Forward local ports to a port of a service\'s container.'

  static description = `Listens on 127.0.0.1 and carries each connection it accepts through its \
own WebSocket to the agent of the node that runs the project, which connects it to REMOTE_PORT \
of the service's container.

The agent is found through the control plane (project, then its node, then the node's address) \
using your caractrl login, or given directly with --node.

Ports: two bare numbers are REMOTE_PORT then LOCAL_PORT ("5432 15432" listens on 15432). \
LOCAL:REMOTE, as in kubectl, reads the other way round ("15432:5432" listens on 15432 too). \
":REMOTE" or a LOCAL_PORT of 0 lets the system choose a free local port. Several LOCAL:REMOTE \
pairs may be given at once.

Ctrl-C stops accepting and waits for open connections to finish; a second Ctrl-C closes them.

The agent cannot pass on a half-close: when a client shuts down its sending side, replies still \
reach it until the service closes or sends nothing for 10s, but a service that waits for the \
end of its input before it answers never learns of it and cannot be used this way.

Exit status: 0 stopped cleanly; 1 internal error; 2 usage error; 3 control plane unreachable \
or unusable; 4 project, service or node cannot be forwarded to; 5 a local port cannot be \
listened on; 6 stopped with connections cut; 7 the --stdio stream failed.`

  static usage = [
    'port-forward PROJECT/SERVICE REMOTE_PORT [LOCAL_PORT] [FLAGS]',
    'port-forward PROJECT/SERVICE [LOCAL_PORT:]REMOTE_PORT... [FLAGS]',
  ]

  static examples = [
    {
      command: '<%= config.bin %> <%= command.id %> shop/db 5432',
      description: 'Reach shop/db\'s port 5432 at 127.0.0.1:5432.',
    },
    {
      command: '<%= config.bin %> <%= command.id %> shop/db 5432 15432',
      description: 'The same at local port 15432 (REMOTE_PORT first).',
    },
    {
      command: '<%= config.bin %> <%= command.id %> shop/db 15432:5432',
      description: 'The same in kubectl\'s order (LOCAL:REMOTE).',
    },
    {
      command: '<%= config.bin %> <%= command.id %> shop/web 8080:80 :9229',
      description: 'Two ports; the system chooses the second local port.',
    },
    {
      command: '<%= config.bin %> <%= command.id %> shop/db 5432 --node 10.0.0.7:9090',
      description: 'Skip the control plane and use this agent.',
    },
  ]

  static strict = false

  static args = {}

  static flags = {
    help: Flags.help({char: 'h'}),
    address: Flags.string({
      default: ['localhost'],
      description: 'Where to listen: IP addresses or localhost (127.0.0.1 and, where present, ' +
        '::1). Repeat it or separate with commas.',
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
    stdio: Flags.boolean({
      description: 'Carry one port over stdin and stdout instead of listening, e.g. as ssh\'s ' +
        'ProxyCommand. Ends when the stream ends or on SIGINT, SIGTERM or SIGHUP.',
    }),
    verbose: Flags.boolean({
      char: 'v',
      description: 'Also print a line for every connection opened and closed.',
      exclusive: ['quiet'],
    }),
    node: Flags.string({
      description: 'Agent to use, as host:port, [v6]:port or wss://host:port; ' +
        'skips the control plane.',
      helpValue: 'HOST:PORT',
    }),
    server: Flags.string({
      description: 'Control-plane URL for this run; ' +
        'overrides the caractrl login and CARACTRL_SERVER.',
      helpValue: 'URL',
    }),
    'certificate-authority': Flags.string({
      description: 'PEM file of the CA that signed the control plane\'s and agents\' ' +
        'certificates; overrides the caractrl login and CARACTRL_CA_FILE.',
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
      description: 'Keepalive ping on every tunnel; a tunnel whose agent stops answering is ' +
        'closed. 0 turns it off.',
      helpValue: 'DURATION',
    }),
    'drain-timeout': Flags.string({
      description: 'After Ctrl-C, longest wait for open connections before closing them. ' +
        'Default: wait.',
      helpValue: 'DURATION',
    }),
  }

  #output: Output | undefined

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(PortForward)
    const words = argv as string[]
    const verbosity = flags.quiet ? 'quiet' : flags.verbose ? 'verbose' : 'normal'
    // With --stdio, stdout carries the stream: no event may ever be written there.
    const json = flags.output === 'json' && !flags.stdio
    const output = new Output({json, target: words[0] ?? '', verbosity})
    this.#output = output
    const {emit} = output

    const options = readForwardOptions(words, flags)
    const {target} = options
    const shownTarget = `${target.project}/${target.service}`
    for (const host of options.exposed) {
      emit({
        message: `listening on ${host}: ${shownTarget} becomes reachable from the network there`,
        type: 'warning',
      })
    }

    // Listened for from here on, so that a Ctrl-C while resolving or binding is not lost.
    // ssh sends its ProxyCommand SIGHUP when it is done with it.
    const stop = listenForStop(options.stdio ? ['SIGHUP'] : [])
    try {
      const routes = await Promise.race([
        openAgentSource({
          config: this.config,
          emit,
          env: process.env,
          flags: {
            certificateAuthority: flags['certificate-authority'],
            insecureSkipTlsVerify: flags['insecure-skip-tls-verify'],
            server: flags.server,
          },
          node: options.node,
          remotePorts: options.specs.map((spec) => spec.remote),
          requestTimeoutMs: options.requestTimeoutMs,
          resolveTimeoutMs: options.resolveTimeoutMs,
          runningTimeoutMs: options.runningTimeoutMs,
          target,
        }),
        stop.first.then(() => undefined),
      ])
      if (routes === undefined) {
        // Stopped before anything was forwarded: requests still under way are abandoned.
        await this.#report(ExitCode.Ok, 0)
        this.exit(ExitCode.Ok)
      }

      const forwarder = new Forwarder({
        connectTimeoutMs: options.connectTimeoutMs,
        emit,
        endpointFor: (remotePort) => routes.endpointFor(remotePort),
        listeners: options.stdio ? [] : options.specs.map((spec) => ({
          addresses: options.addresses, port: spec.local, remotePort: spec.remote,
        })),
        pingIntervalMs: options.pingIntervalMs,
        redial: (remotePort, failure) => routes.redial(remotePort, failure),
      })

      const listening = await forwarder.start()
      for (const {host, port, remotePort} of listening) {
        const agent = routes.shown(remotePort)
        emit({address: host, agent, port, remotePort, target: shownTarget, type: 'ready'})
      }

      const {code, cut} = options.stdio ?
        await this.#carryStdio(forwarder, options.specs[0].remote, stop.first) :
        await this.#serveUntilStopped(forwarder, stop, options.drainTimeoutMs)
      await this.#report(code, cut)
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
          `${redactUrls(usageLine(error.message))}; see caractrl port-forward --help`,
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

  /** The last events of a run, written out before the process may exit. */
  async #report(code: ExitCode, cut: number): Promise<void> {
    const output = this.#output!
    output.emit({cut, type: 'stopped'})
    output.emit({code, type: 'exit'})
    await output.flush()
  }

  /**
   * stdin and stdout are the one connection; the run ends with it, failing if it failed. A
   * stop signal ends it too, and cleanly: for a ProxyCommand that is how it is told the
   * session is over.
   */
  async #carryStdio(forwarder: Forwarder, remotePort: number, stopped: Promise<unknown>):
  Promise<Outcome> {
    const {StdioStream} = await import('../tunnel/stdio-stream.js')
    const stream = new StdioStream()
    const ended = forwarder.adopt(stream as unknown as Socket, remotePort)
    const result = await Promise.race([ended, stopped.then(() => undefined)])
    if (result === undefined) forwarder.cut('stopped by a signal')
    await forwarder.drain()
    const failed = result !== undefined && result.error !== undefined
    return {code: failed ? ExitCode.StreamFailed : ExitCode.Ok, cut: 0}
  }

  /** Forwards until a stop signal, then drains within the limits of the next signal or timeout. */
  async #serveUntilStopped(forwarder: Forwarder, stop: StopRequests, drainTimeoutMs?: number):
  Promise<Outcome> {
    await stop.first
    const cut = await this.#shutdown(forwarder, stop.second, this.#output!.emit, drainTimeoutMs)
    return {code: cut > 0 ? ExitCode.Forced : ExitCode.Ok, cut}
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

/**
 * oclif's parse errors can take several lines: a heading, one reason per line, a pointer to
 * --help. The reasons are what the user needs; the line adds its own pointer.
 */
function usageLine(message: string): string {
  const lines = message.split('\n').map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('See more help with'))
  if (lines.length > 1 && /^The following errors? occurred:$/.test(lines[0])) lines.shift()
  return lines.reduce((text, line) => `${text}${text.endsWith(':') ? ' ' : '; '}${line}`)
}
