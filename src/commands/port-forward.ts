import {Command, Flags} from '@oclif/core'

import createDebug from 'debug'

import {parseDuration} from '../args/duration.js'
import {formatHostPort, parseNodeAddress, type AgentAddress} from '../args/node-address.js'
import {parsePortSpecs} from '../args/port-spec.js'
import {parseTarget, type Target} from '../args/target.js'
import {ExitCode, isForwardError, UsageError} from '../errors/index.js'
import type {EmitEvent} from '../events/forward-event.js'
import {HookFailure, collectAnswers} from '../hooks/control-plane-hook.js'
import {listenForStop} from '../lifecycle/stop-signals.js'
import {forwardPath} from '../protocol/forward-path.js'
import {redactUrls} from '../redact/redact-url.js'
import {TextRenderer} from '../render/text-renderer.js'
import {ControlPlaneError} from '../errors/index.js'
import type {AgentEndpoint} from '../tunnel/agent-endpoint.js'
import {Forwarder} from '../tunnel/forwarder.js'

const debug = createDebug('caractrl:port-forward')

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

The agent cannot pass on a half-close: when a client shuts down its sending side, replies still \
reach it until the service closes or sends nothing for 10s, but a service that waits for the \
end of its input before it answers never learns of it and cannot be used this way.

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
    node: Flags.string({
      description: 'Agent to use, as host:port, [v6]:port or wss://host:port; skips the control plane.',
      helpValue: 'HOST:PORT',
    }),
    server: Flags.string({
      description: 'Control-plane URL for this run; overrides the caractrl login and CARACTRL_SERVER.',
      helpValue: 'URL',
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

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(PortForward)
    const [targetWord, ...portWords] = argv as string[]
    if (!targetWord) {
      throw new UsageError('missing target: run caractrl port-forward <project>/<service> REMOTE_PORT')
    }

    const target = parseTarget(targetWord)
    const specs = parsePortSpecs(portWords)
    const node = flags.node === undefined ? undefined : parseNodeAddress(flags.node)
    const connectTimeoutMs = parseDuration(flags['connect-timeout'], 'connect-timeout')
    const pingIntervalMs = parseDuration(flags['ping-interval'], 'ping-interval')
    const drainTimeoutMs = flags['drain-timeout'] === undefined ?
      undefined :
      parseDuration(flags['drain-timeout'], 'drain-timeout')

    const shownTarget = `${target.project}/${target.service}`
    const renderer = new TextRenderer((line) => this.#stderrLine(line), shownTarget)
    const emit: EmitEvent = (event) => renderer.render(event)

    const agent = node ?? await this.#resolveAgent(target, flags.server, emit)
    const agentShown = `${agent.scheme}//${formatHostPort(agent.host, agent.port)}`
    const endpointFor = (remotePort: number): AgentEndpoint => ({
      url: `${agentShown}${forwardPath(target.project, target.service, remotePort)}`,
    })

    const forwarder = new Forwarder({
      connectTimeoutMs,
      emit,
      endpointFor,
      listeners: specs.map((spec) => ({host: '127.0.0.1', port: spec.local, remotePort: spec.remote})),
      pingIntervalMs,
    })

    // Signals are listened for before binding, so a Ctrl-C during start-up is not lost.
    const stop = listenForStop()
    try {
      const listening = await forwarder.start()
      for (const {host, port, remotePort} of listening) {
        emit({address: host, agent: agentShown, port, remotePort, target: shownTarget, type: 'ready'})
      }

      await stop.first
      const cut = await this.#shutdown(forwarder, stop.second, emit, drainTimeoutMs)
      emit({cut, type: 'stopped'})
      if (cut > 0) this.exit(ExitCode.Forced)
    } finally {
      stop.dispose()
    }
  }

  /** Prints errors as one line with an exit status of their own; stacks only under DEBUG. */
  async catch(error: Error & {oclif?: {exit?: number}; code?: string}): Promise<never> {
    if (error.code === 'EEXIT') throw error

    debug('%s', error.stack)
    if (isForwardError(error)) {
      this.#stderrLine(`Error: ${redactUrls(error.message)}`)
      this.exit(error.exitCode)
    }

    if (error.oclif?.exit === ExitCode.Usage) {
      const [first] = error.message.split('\n')
      this.#stderrLine(`Error: ${first}; see caractrl port-forward --help`)
      this.exit(ExitCode.Usage)
    }

    this.#stderrLine(
      `Error: unexpected failure: ${redactUrls(error.message)}; ` +
      'rerun with DEBUG=caractrl:* to see where, and report it',
    )
    this.exit(ExitCode.Internal)
  }

  async #resolveAgent(target: Target, server: string | undefined, emit: EmitEvent): Promise<AgentAddress> {
    const [{controlPlaneConfig}, {ControlPlaneClient}, {resolveAgent}] = await Promise.all([
      import('../resolver/control-plane-config.js'),
      import('../resolver/control-plane-client.js'),
      import('../resolver/resolve-agent.js'),
    ])

    let answers
    try {
      answers = await collectAnswers(this.config, 'caractrl:control-plane', {})
    } catch (error) {
      if (!(error instanceof HookFailure)) throw error
      throw new ControlPlaneError(
        'hook-failed',
        `${error.message} (from the caractrl:control-plane hook of ${error.plugin})`,
      )
    }

    const {config, warnings} = controlPlaneConfig({answers, env: process.env, flags: {server}})
    for (const message of warnings) emit({message, type: 'warning'})
    debug('control plane %s from %s', config.url.host, config.source)

    const client = await ControlPlaneClient.create(config)
    const resolved = await resolveAgent(client, target)
    for (const message of resolved.warnings) emit({message, type: 'warning'})
    debug('agent of %s/%s is %s:%d on node %s', target.project, target.service, resolved.host,
      resolved.port, resolved.node)
    return {host: resolved.host, port: resolved.port, scheme: 'ws:'}
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

  /** stderr may be a pipe whose reader went away; losing a line must not stop the forward. */
  #stderrLine(line: string): void {
    if (process.stderr.listenerCount('error') === 0) process.stderr.on('error', () => {})
    if (!process.stderr.destroyed) process.stderr.write(`${line}\n`)
  }
}
