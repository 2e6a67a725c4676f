import {Duplex} from 'node:stream'

/**
 * stdin and stdout as one duplex stream, shaped like the socket a bridge expects, so that
 * `--stdio` reuses every rule of a forwarded connection: nothing is read before the tunnel
 * opens, reading pauses under backpressure, and the end of stdin is a half-close.
 */
export class StdioStream extends Duplex {
  readonly remoteAddress = 'stdio'
  readonly remotePort = 0
  readonly localPort = 0
  #input: NodeJS.ReadableStream
  #output: NodeJS.WritableStream

  constructor(input: NodeJS.ReadableStream = process.stdin,
    output: NodeJS.WritableStream = process.stdout) {
    super({allowHalfOpen: true})
    this.#input = input
    this.#output = output
    input.pause()
    input.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) input.pause()
    })
    input.on('end', () => this.push(null))
    input.on('error', (error: Error) => this.destroy(error))
    output.on('error', (error: Error) => this.destroy(error))
  }

  /** Sockets take this to turn off Nagle; a pipe has nothing to turn off. */
  setNoDelay(): this {
    return this
  }

  /** A pipe cannot signal a reset; closing it is the nearest thing. */
  resetAndDestroy(): this {
    return this.destroy()
  }

  override _read(): void {
    this.#input.resume()
  }

  override _write(
    chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void,
  ): void {
    this.#output.write(chunk, done)
  }

  override _final(done: () => void): void {
    // stdout stays open until the process exits, which is when the reader sees its end.
    done()
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#input.pause()
    done(error)
  }
}
