import {once} from 'node:events'

/** Longest wait at exit for a slow pipe reader to take what was written. */
const FLUSH_TIMEOUT_MS = 5000

/**
 * Writes whole lines to stdout or stderr. A reader that went away (a closed pipe, a restarted
 * log shipper) only makes later lines vanish: it never stops the forward or changes its exit
 * status.
 */
export class LineWriter {
  #stream: NodeJS.WritableStream & {writableLength?: number; destroyed?: boolean}
  #dead = false

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream
    stream.on('error', () => {
      this.#dead = true
    })
  }

  write(line: string): void {
    if (this.#dead || this.#stream.destroyed) return
    this.#stream.write(`${line}\n`)
  }

  /** Waits, within a bound, until every line written so far has been handed to the reader. */
  async flush(): Promise<void> {
    if (this.#dead || !this.#stream.writableLength) return

    const timeout = AbortSignal.timeout(FLUSH_TIMEOUT_MS)
    await once(this.#stream, 'drain', {signal: timeout}).catch(() => {})
  }
}
