import {RunningCli} from './cli.js'
import {TestAgent} from './test-agent.js'
import {TestControlPlane} from './test-control-plane.js'

/** The project every real-client test forwards into, and its services. */
export const PROJECT = 'shop'
export const SERVICES = ['db', 'cache', 'web']

/** One running `port-forward` and the local port it printed. */
export interface Forward {
  cli: RunningCli
  port: number
}

/**
 * A control plane and an agent in front of services on 127.0.0.1, and the `port-forward`
 * processes started against them, the way a user starts them: only CARACTRL_SERVER set.
 */
export class ForwardStack {
  readonly plane: TestControlPlane
  readonly agent: TestAgent
  #forwards: RunningCli[] = []

  private constructor(plane: TestControlPlane, agent: TestAgent) {
    this.plane = plane
    this.agent = agent
  }

  static async start(): Promise<ForwardStack> {
    const [plane, agent] = await Promise.all([TestControlPlane.start(), TestAgent.start()])
    plane.addProject(PROJECT, {node: 'node-a', services: SERVICES})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
    return new ForwardStack(plane, agent)
  }

  /** Runs `port-forward shop/SERVICE REMOTE 0` and waits for its confirmation line. */
  async forward(service: string, remotePort: number): Promise<Forward> {
    const cli = new RunningCli(['port-forward', `${PROJECT}/${service}`, String(remotePort), '0'],
      {CARACTRL_SERVER: this.plane.url})
    this.#forwards.push(cli)
    const [port] = await cli.ready()
    return {cli, port}
  }

  async close(): Promise<void> {
    await Promise.all(this.#forwards.map((cli) => cli.kill()))
    await Promise.all([this.agent.close(), this.plane.close()])
  }
}

/** Lines in which a forward reported a failed connection. */
export function failedConnections(forward: Forward): string[] {
  return forward.cli.stderr.split('\n').filter((line) => / failed: /.test(line))
}
