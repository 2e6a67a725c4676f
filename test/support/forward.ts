import {RunningCli} from './cli.js'

/**
 * Starts `port-forward` straight to an agent (`--node`) for one remote port and resolves
 * with the CLI and the local port it listens on.
 */
export async function forwardTo(
  agentAddress: string, remotePort: number, flags: string[] = [], env: NodeJS.ProcessEnv = {},
): Promise<{cli: RunningCli; port: number}> {
  const cli = new RunningCli(
    ['port-forward', 'shop/db', `0:${remotePort}`, '--node', agentAddress, ...flags], env)
  const [port] = await cli.ready()
  return {cli, port}
}

/** Lines the CLI printed for connections that failed. */
export function failureLines(cli: RunningCli): string[] {
  return cli.stderr.split('\n').filter((line) => / failed: /.test(line))
}
