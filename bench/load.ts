import {connect, type Socket} from 'node:net'

import {header, Mode, SLOW_RATE, SLOW_TICK_MS} from './target-modes.js'

/** The load generator's write: large, so that the client is not what limits a transfer. */
const CHUNK = Buffer.alloc(1024 * 1024, 0x62)

/** Connects to 127.0.0.1:`port`, optionally from another loopback address. */
export async function dial(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({host: '127.0.0.1', localAddress, noDelay: true, port})
    socket.once('connect', () => {
      socket.removeListener('error', reject)
      // A reset is seen as an early close by whoever waits on the socket.
      socket.on('error', () => {})
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

/** Resolves with the next `count` bytes the socket receives. */
export async function readBytes(socket: Socket, count: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk)
      length += chunk.length
      if (length >= count) {
        cleanUp()
        resolve(Buffer.concat(chunks))
      }
    }

    const onEnd = (): void => {
      cleanUp()
      reject(new Error(`connection ended after ${length} of ${count} bytes`))
    }

    const cleanUp = (): void => {
      socket.removeListener('data', onData)
      socket.removeListener('error', onEnd)
      socket.removeListener('close', onEnd)
    }

    socket.on('data', onData)
    socket.once('error', onEnd)
    socket.once('close', onEnd)
  })
}

/** Writes `size` bytes as fast as the socket takes them. */
export async function writeFlatOut(socket: Socket, size: number): Promise<void> {
  let left = size
  while (left > 0) {
    const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left)
    left -= piece.length
    if (!socket.write(piece)) await drained(socket)
  }
}

/** Seconds to push `size` bytes to the target's sink and hear that all of them arrived. */
export async function upload(port: number, size: number): Promise<number> {
  const started = process.hrtime.bigint()
  const socket = await dial(port)
  const answered = readBytes(socket, 1)
  socket.write(header(Mode.sink, size))
  await writeFlatOut(socket, size)
  await answered
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await closed(socket)
  return seconds
}

/** Seconds to receive `size` bytes from the target's source. */
export async function download(port: number, size: number): Promise<number> {
  const started = process.hrtime.bigint()
  const socket = await dial(port)
  const received = countBytes(socket, size)
  socket.write(header(Mode.source, size))
  await received
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await closed(socket)
  return seconds
}

/** Microseconds of each of `count` one-byte round trips on one connection. */
export async function roundTrips(port: number, count: number): Promise<number[]> {
  const socket = await dial(port)
  socket.write(Mode.echo)
  await readBytes(socket, 1)
  const times: number[] = []
  const byte = Buffer.from('x')
  for (let index = 0; index < count; index++) {
    const started = process.hrtime.bigint()
    const reply = readBytes(socket, 1)
    socket.write(byte)
    await reply
    times.push(Number(process.hrtime.bigint() - started) / 1000)
  }

  await closed(socket)
  return times
}

/** Microseconds from dialling to the first byte of the echo, for each of `count` connections. */
export async function newConnections(port: number, count: number): Promise<number[]> {
  const times: number[] = []
  for (let index = 0; index < count; index++) {
    const started = process.hrtime.bigint()
    const socket = await dial(port)
    const reply = readBytes(socket, 1)
    socket.write(Mode.echo)
    await reply
    times.push(Number(process.hrtime.bigint() - started) / 1000)
    await closed(socket)
  }

  return times
}

/** Opens `count` connections at once, each echoing `bytes`; resolves with how many failed. */
export async function concurrentEchoes(port: number, count: number, bytes: number,
  timeoutMs: number): Promise<number> {
  const payload = Buffer.alloc(bytes, 0x63)
  const one = async (): Promise<void> => {
    const socket = await dial(port)
    try {
      const reply = readBytes(socket, bytes + 1)
      socket.write(Mode.echo)
      socket.write(payload)
      await withTimeout(reply, timeoutMs)
    } finally {
      await closed(socket)
    }
  }

  const outcomes = await Promise.allSettled(Array.from({length: count}, one))
  return outcomes.filter((outcome) => outcome.status === 'rejected').length
}

/** Reads whatever arrives at the slow rate, keeping count. */
export function readSlowly(socket: Socket): {readonly received: number; stop(): void} {
  let received = 0
  let allowance = 0
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length
    allowance -= chunk.length
    if (allowance <= 0) socket.pause()
  })
  const timer = setInterval(() => {
    allowance = Math.min(allowance + (SLOW_RATE * SLOW_TICK_MS) / 1000, SLOW_RATE)
    if (allowance > 0) socket.resume()
  }, SLOW_TICK_MS)
  return {
    get received() {
      return received
    },
    stop: () => clearInterval(timer),
  }
}

/** Writes until told to stop, whenever the socket takes more. */
export function sendFlatOut(socket: Socket): {readonly sent: number; stop(): void} {
  let stopped = false
  const more = (): void => {
    while (!stopped && !socket.destroyed) {
      if (!socket.write(CHUNK)) {
        socket.once('drain', more)
        return
      }
    }
  }

  more()
  return {
    // What the kernel took: what Node still buffers is not in flight yet.
    get sent() {
      return socket.bytesWritten - socket.writableLength
    },
    stop() {
      stopped = true
    },
  }
}

/**
 * Ends the connection with a reset and waits until it is gone. A reset ends the tunnel at
 * once in every configuration; after a plain FIN the CLI keeps a tunnel up to 10 s, since
 * the protocol cannot tell a half-close from a close, and the cost of closing would fall
 * outside the measurement.
 */
export async function closed(socket: Socket): Promise<void> {
  if (socket.destroyed) return

  await new Promise((resolve) => {
    socket.once('close', resolve)
    socket.resetAndDestroy()
  })
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => {
    setTimeout(resolve, ms)
  })
}

export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

async function drained(socket: Socket): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      socket.removeListener('close', onClose)
      resolve()
    }

    const onClose = (): void => {
      socket.removeListener('drain', onDrain)
      reject(new Error('connection closed while sending'))
    }

    socket.once('drain', onDrain)
    socket.once('close', onClose)
  })
}

async function countBytes(socket: Socket, size: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let received = 0
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received >= size) resolve()
    })
    socket.once('close', () => {
      if (received < size) reject(new Error(`download ended after ${received} of ${size} bytes`))
    })
  })
}
