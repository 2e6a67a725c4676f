/**
 * What the bench's target does with a connection is chosen by the connection's first byte,
 * so that one target port, and one relay of each kind in front of it, serves every scenario.
 * Modes with a size or an id carry it as 8 bytes, big-endian, right after the mode byte.
 */
export const Mode = {
  /** Sends back everything, the mode byte included. */
  echo: 'E',
  /** Reads the given number of bytes, then answers with one byte. */
  sink: 'U',
  /** Sends the given number of bytes, then ends. */
  source: 'D',
  /** Reads at the slow rate and reports what it read so far as 8 bytes, every tick. */
  slowSink: 'S',
  /** Sends as fast as the connection takes, reporting what it wrote under the given id. */
  flood: 'F',
  /** Holds the connection and does nothing. */
  idle: 'I',
} as const

/** Bytes per second of the slow readers. */
export const SLOW_RATE = 1024 * 1024

/** How often the slow readers top up what they may read, and report progress. */
export const SLOW_TICK_MS = 100

/** The mode byte followed by a 64-bit argument. */
export function header(mode: string, argument: number): Buffer {
  const bytes = Buffer.alloc(9)
  bytes.write(mode, 0, 'latin1')
  bytes.writeBigUInt64BE(BigInt(argument), 1)
  return bytes
}
