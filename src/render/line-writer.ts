import {once} from 'node:events'

/** Longest wait at exit for a slow pipe reader to take what was written. */
const FLUSH_TIMEOUT_MS = 5000

type Stream = NodeJS.WritableStream & {writableLength?: number; destroyed?: boolean}

/** Streams whose reader went away. One listener per stream, however many writers it has. */
const dead = new WeakMap<Stream, boolean>()

function guard(stream: Stream): void {
  if (dead.has(stream)) return

  dead.set(stream, false)
  stream.on('error', () => dead.set(stream, true))
}

/**
 * Writes whole lines to stdout or stderr. A reader that went away (a closed pipe, a restarted
 * log shipper) only makes later lines vanish: it never stops the forward or changes its exit
 * status.
 */
export class LineWriter {
  #stream: Stream

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream
    guard(stream)
  }

  write(line: string): void {
    if (dead.get(this.#stream) || this.#stream.destroyed) return
    this.#stream.write(`${line}\n`)
  }

  /** Waits, within a bound, until every line written so far has been handed to the reader. */
  async flush(): Promise<void> {
    if (dead.get(this.#stream) || !this.#stream.writableLength) return

    const timeout = AbortSignal.timeout(FLUSH_TIMEOUT_MS)
    await once(this.#stream, 'drain', {signal: timeout}).catch(() => {})
  }
}
