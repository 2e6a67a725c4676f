/**
 * The service every configuration forwards to, in a process of its own so that its CPU is
 * neither the load generator's nor the relay's. Prints its port as one JSON line; flood
 * progress and its count of open connections go to the parent over IPC.
 */
import {createServer, type AddressInfo, type Socket} from 'node:net'

import {Mode, SLOW_RATE, SLOW_TICK_MS} from './target-modes.js'

const CHUNK = Buffer.alloc(1024 * 1024, 0x61)
const floods = new Map<number, {written: number}>()

const server = createServer({noDelay: true}, (socket) => {
  socket.on('error', () => socket.destroy())
  readHeader(socket)
})

function readHeader(socket: Socket): void {
  let buffered = Buffer.alloc(0)
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk])
    const mode = String.fromCharCode(buffered[0])
    const needed = mode === Mode.echo || mode === Mode.idle || mode === Mode.slowSink ? 1 : 9
    if (buffered.length < needed) return

    socket.removeListener('data', onData)
    const argument = needed === 9 ? Number(buffered.readBigUInt64BE(1)) : 0
    dispatch(socket, mode, argument, buffered)
  }

  socket.on('data', onData)
}

function dispatch(socket: Socket, mode: string, argument: number, first: Buffer): void {
  switch (mode) {
    case Mode.echo: {
      socket.write(first)
      socket.pipe(socket)
      break
    }

    case Mode.sink: {
      sink(socket, argument, first.length - 9)
      break
    }

    case Mode.source: {
      socket.resume()
      send(socket, argument, () => socket.end())
      break
    }

    case Mode.slowSink: {
      slowSink(socket, first.length - 1)
      break
    }

    case Mode.flood: {
      flood(socket, argument)
      break
    }

    default: {
      socket.resume()
    }
  }
}

function sink(socket: Socket, size: number, already: number): void {
  let received = already
  let answered = false
  const check = (): void => {
    if (!answered && received >= size) {
      answered = true
      socket.write('K')
    }
  }

  socket.on('data', (chunk: Buffer) => {
    received += chunk.length
    check()
  })
  check()
}

/** Writes `size` bytes in large writes, waiting for the socket to drain in between. */
function send(socket: Socket, size: number, done: () => void): void {
  let left = size
  const more = (): void => {
    while (left > 0) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left)
      left -= piece.length
      if (!socket.write(piece)) {
        socket.once('drain', more)
        return
      }
    }

    done()
  }

  more()
}

function slowSink(socket: Socket, already: number): void {
  let received = already
  let allowance = 0
  const report = Buffer.alloc(8)
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length
    allowance -= chunk.length
    if (allowance <= 0) socket.pause()
  })
  const timer = setInterval(() => {
    allowance = Math.min(allowance + (SLOW_RATE * SLOW_TICK_MS) / 1000, SLOW_RATE)
    if (allowance > 0) socket.resume()
    report.writeBigUInt64BE(BigInt(received))
    socket.write(Buffer.from(report))
  }, SLOW_TICK_MS)
  socket.on('close', () => clearInterval(timer))
}

function flood(socket: Socket, id: number): void {
  // Counted as what the kernel took: what Node still buffers is not in flight yet.
  const progress = {
    get written(): number {
      return socket.bytesWritten - socket.writableLength
    },
  }
  floods.set(id, progress)
  socket.resume()
  const more = (): void => {
    while (!socket.destroyed) {
      if (!socket.write(CHUNK)) {
        socket.once('drain', more)
        return
      }
    }
  }

  socket.on('close', () => floods.delete(id))
  more()
}

setInterval(() => {
  for (const [id, {written}] of floods) process.send?.({id, written})
  server.getConnections((_error, count) => process.send?.({connections: count}))
}, SLOW_TICK_MS).unref()

server.listen({backlog: 4096, host: '127.0.0.1', port: 0}, () => {
  console.log(JSON.stringify({port: (server.address() as AddressInfo).port}))
})
process.on('disconnect', () => process.exit(0))
