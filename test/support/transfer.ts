import {createHash, randomBytes} from 'node:crypto'
import {connect, type Socket} from 'node:net'

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

export function randomPayload(bytes: number): Buffer {
  return randomBytes(bytes)
}

/** Connects to 127.0.0.1:`port` and resolves once connected. */
export async function dial(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({host, port})
    socket.once('connect', () => {
      socket.removeListener('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

/**
 * Sends `payload` through an echo service at `port` and reads the same number of bytes back.
 * Resolves with the hash of what came back.
 */
export async function echoThrough(port: number, payload: Buffer): Promise<string> {
  const socket = await dial(port)
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    let received = 0
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      received += chunk.length
      if (received >= payload.length) {
        socket.destroy()
        resolve(hash.digest('hex'))
      }
    })
    socket.on('error', reject)
    socket.on('close', () => {
      if (received < payload.length) {
        reject(new Error(`echo ended after ${received} of ${payload.length} bytes`))
      }
    })
    socket.write(payload)
  })
}

/** Reads a connection to its end; resolves with everything that came, or rejects on reset. */
export async function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('end', () => resolve(Buffer.concat(chunks)))
    socket.on('error', reject)
  })
}
