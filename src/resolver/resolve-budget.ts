/** Longest wait for one control-plane attempt, unless `--request-timeout` says otherwise. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 5000

/** Longest start-up resolution, unless `--resolve-timeout` says otherwise. */
export const DEFAULT_RESOLVE_TIMEOUT_MS = 15_000

/**
 * The one deadline of a resolution: host hooks, every control-plane request with its retries
 * and pauses, and the agent's health check all draw on it. Waiting for a Pending project is
 * the only thing that may push it back, by the running timeout, once the control plane has
 * said the project is waiting; a control plane that never answers never earns the extension.
 */
export class ResolveBudget {
  readonly totalMs: number
  #extendedMs = 0
  #deadline: number
  #controller = new AbortController()
  #timer: NodeJS.Timeout | undefined

  constructor(totalMs: number) {
    this.totalMs = totalMs
    this.#deadline = Date.now() + totalMs
    this.#arm()
  }

  /** Aborts when the deadline passes; every request of the resolution listens to it. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** How much time is left, never below 0. */
  remainingMs(): number {
    return Math.max(0, this.#deadline - Date.now())
  }

  /** Whether the deadline was pushed back for waiting, for messages. */
  get extendedMs(): number {
    return this.#extendedMs
  }

  /** Pushes the deadline back by `ms`, once the project is known to be waiting. */
  extend(ms: number): void {
    if (this.signal.aborted || ms <= 0) return

    this.#extendedMs += ms
    this.#deadline += ms
    this.#arm()
  }

  /** Stops the timer; the signal stays as it is. */
  dispose(): void {
    clearTimeout(this.#timer)
  }

  #arm(): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#controller.abort(new Error(`resolution took longer than ${this.totalMs} ms`))
    }, this.remainingMs())
    // The budget bounds work that is under way; it must not keep the process alive itself.
    this.#timer.unref()
  }
}

/** `1.5s`, `15s`: a duration as messages show it. */
export function showSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`
}
