/**
 * A runner such as `npm run` forwards the terminal's Ctrl-C to a process that got it from the
 * terminal already, so one keypress arrives twice within milliseconds. Only a signal this
 * much later than the first counts as a second request.
 */
export const REPEAT_GAP_MS = 1000

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

export interface StopRequests {
  /** Resolves at the first stop signal, with its name. */
  readonly first: Promise<NodeJS.Signals>
  /** Resolves at a later, separate stop signal. */
  readonly second: Promise<NodeJS.Signals>
  /** Stops listening for signals. */
  dispose(): void
}

/**
 * Listens for SIGINT, SIGTERM and any `extra` signals without ever throwing from the
 * handler: a signal only settles a promise, and the command decides what to do in its own
 * flow.
 */
export function listenForStop(extra: NodeJS.Signals[] = []): StopRequests {
  const signals = [...STOP_SIGNALS, ...extra]
  let firstAt = 0
  let settleFirst!: (signal: NodeJS.Signals) => void
  let settleSecond!: (signal: NodeJS.Signals) => void
  const first = new Promise<NodeJS.Signals>((resolve) => {
    settleFirst = resolve
  })
  const second = new Promise<NodeJS.Signals>((resolve) => {
    settleSecond = resolve
  })

  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now()
    if (firstAt === 0) {
      firstAt = now
      settleFirst(signal)
    } else if (now - firstAt >= REPEAT_GAP_MS) {
      settleSecond(signal)
    }
  }

  for (const signal of signals) process.on(signal, onSignal)
  return {
    dispose() {
      for (const signal of signals) process.off(signal, onSignal)
    },
    first,
    second,
  }
}
