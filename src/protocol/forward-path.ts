/**
 * The agent's forward endpoint for one service port. Names are encoded even though valid
 * names never need it, so that a bad name can never change the path.
 */
export function forwardPath(project: string, service: string, port: number): string {
  const segments = [project, service, String(port)].map((part) => encodeURIComponent(part))
  return `/api/v1/forward/${segments.join('/')}`
}

/** The port the agent listens on when the node does not say. */
export const DEFAULT_AGENT_PORT = 9090
