/**
 * Exit statuses of `caractrl port-forward`. They are part of the command's contract:
 * scripts and supervisors act on them, so a value never changes meaning.
 */
export const ExitCode = {
  /** Stopped on request after every connection finished. */
  Ok: 0,
  /** An unexpected internal failure; rerun with DEBUG=caractrl* and report it. */
  Internal: 1,
  /** The command line is wrong. */
  Usage: 2,
  /** The control plane could not be reached or gave an answer that cannot be used. */
  ControlPlane: 3,
  /** The project, service or node cannot be forwarded to as it stands. */
  Target: 4,
  /** A local address could not be listened on. */
  Bind: 5,
  /** Stopped on request, but open connections had to be cut. */
  Forced: 6,
  /** With `--stdio`, the one stream failed: refused by the agent, reset, or timed out. */
  StreamFailed: 7,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]
