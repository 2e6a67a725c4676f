import type {Socket} from 'node:net'

import {startTarget, type Target} from './targets.js'
import {dial} from './transfer.js'

/** `upload`: the local client sends, the service reads slowly; `download` the other way. */
export type Direction = 'upload' | 'download'

export interface SlowReaderRun {
  sent: number
  received: number
  /** Most bytes sent but not yet read that were seen at once. */
  maxInFlight: number
}

export interface SlowReaderOptions {
  direction: Direction
  durationMs: number
  /** What the slow side reads per second. */
  bytesPerSecond: number
  /** Most bytes the fast side sends. */
  capBytes: number
  /** Called at each sample, e.g. to measure a process; returning true stops the run. */
  onSample?: (run: SlowReaderRun) => boolean | void
}

const SAMPLE_MS = 250
const READ_TICK_MS = 100
const CHUNK = Buffer.alloc(64 * 1024, 0x5a)

/**
 * A service for the slow-reader scenario: one side pushes as fast as the path takes bytes,
 * the other reads at a fixed rate, and the bytes in flight between them are watched.
 */
export class SlowReaderService {
  #target!: Target
  #waiting: ((socket: Socket) => void) | undefined

  static async start(): Promise<SlowReaderService> {
    const service = new SlowReaderService()
    service.#target = await startTarget((socket) => {
      socket.pause()
      service.#waiting?.(socket)
    })
    return service
  }

  get port(): number {
    return this.#target.port
  }

  async close(): Promise<void> {
    await this.#target.close()
  }

  /** Runs the scenario through `localPort`, which must lead to this service. */
  async run(localPort: number, options: SlowReaderOptions): Promise<SlowReaderRun> {
    const accepted = new Promise<Socket>((resolve) => {
      this.#waiting = resolve
    })
    const client = await dial(localPort)
    client.pause()
    const service = await accepted
    const [sender, reader] = options.direction === 'upload' ? [client, service] : [service, client]
    for (const socket of [client, service]) socket.on('error', () => {})

    const run: SlowReaderRun = {maxInFlight: 0, received: 0, sent: 0}
    const pump = () => {
      while (run.sent < options.capBytes && !sender.destroyed) {
        run.sent += CHUNK.length
        if (!sender.write(CHUNK)) return
      }
    }

    sender.on('drain', pump)
    pump()

    // A token bucket: each tick allows its share of the rate, and what a tick could not
    // read (the stream had nothing buffered yet) is read as soon as bytes are there.
    let budget = 0
    const read = () => {
      while (budget > 0) {
        const chunk = reader.read() as Buffer | null
        if (!chunk) return
        run.received += chunk.length
        budget -= chunk.length
      }
    }

    reader.on('readable', read)
    const reading = setInterval(() => {
      budget = Math.min(budget + options.bytesPerSecond * READ_TICK_MS / 1000,
        options.bytesPerSecond / 5)
      read()
    }, READ_TICK_MS)

    await new Promise<void>((resolve) => {
      const stopAt = Date.now() + options.durationMs
      const sampling = setInterval(() => {
        run.maxInFlight = Math.max(run.maxInFlight, run.sent - run.received)
        if (options.onSample?.(run) || Date.now() >= stopAt) {
          clearInterval(sampling)
          resolve()
        }
      }, SAMPLE_MS)
    })

    clearInterval(reading)
    client.destroy()
    service.destroy()
    return run
  }
}
