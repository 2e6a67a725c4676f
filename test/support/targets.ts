import {createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'

/** A TCP service the tests forward to, on 127.0.0.1 with a port of its own. */
export interface Target {
  port: number
  /** Every connection it accepted that is still open. */
  sockets: Set<Socket>
  close(): Promise<void>
}

/** Starts a TCP server on 127.0.0.1 port 0 that hands each connection to `handle`. */
export async function startTarget(handle: (socket: Socket) => void, port = 0): Promise<Target> {
  const sockets = new Set<Socket>()
  const server: Server = createServer({allowHalfOpen: true}, (socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    handle(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return {
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
      })
    },
    port: (server.address() as AddressInfo).port,
    sockets,
  }
}

/** Sends back everything it receives; ends when the client ends. */
export function echo(socket: Socket): void {
  socket.pipe(socket)
}

/** Sends `bytes` and closes, ignoring what comes in. */
export function source(bytes: Buffer): (socket: Socket) => void {
  return (socket) => {
    socket.resume()
    socket.end(bytes)
  }
}

/** Reads a full line, answers it, then closes: the shape of many request/reply protocols. */
export function answerLine(reply: (line: string) => string): (socket: Socket) => void {
  return (socket) => {
    let buffered = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffered += chunk
      const newline = buffered.indexOf('\n')
      if (newline !== -1) socket.end(reply(buffered.slice(0, newline)))
    })
  }
}

/** Echoes until `bytes` have come in, then resets the connection. */
export function resetAfter(bytes: number): (socket: Socket) => void {
  return (socket) => {
    let received = 0
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received >= bytes) socket.resetAndDestroy()
      else socket.write(chunk)
    })
  }
}

/** Accepts and never reads, so that whatever is sent piles up on the way. */
export function stalled(socket: Socket): void {
  socket.pause()
}

/** Echoes the first chunk it gets, then closes: one request, one reply. */
export function echoOnce(socket: Socket): void {
  socket.once('data', (chunk: Buffer) => socket.end(chunk))
}
