import {createCipheriv, createHash} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {Readable} from 'node:stream'

const CHUNK = 256 * 1024

/**
 * `bytes` bytes that depend only on `seed`: AES in counter mode over zeros, which is fast
 * enough to feed a tunnel at full speed and needs no memory for the whole stream.
 */
export function pseudoRandomBytes(bytes: number, seed = 'caractrl'): Readable {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  const zeros = Buffer.alloc(CHUNK)
  let left = bytes
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null)
        return
      }

      const size = Math.min(left, CHUNK)
      left -= size
      this.push(cipher.update(zeros.subarray(0, size)))
    },
  })
}

/** The sha256 of `pseudoRandomBytes(bytes, seed)`. */
export async function pseudoRandomSha256(bytes: number, seed = 'caractrl'): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of pseudoRandomBytes(bytes, seed)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** What the server made of one upload. */
export interface Upload {
  bytes: number
  sha256: string
}

/**
 * An HTTP server on 127.0.0.1 port 0. `GET /bytes/N?seed=S` answers N pseudo-random bytes;
 * `PUT` or `POST` to any other path reads the body and answers its size and sha256 as JSON.
 */
export class ByteServer {
  readonly uploads: Upload[] = []
  #server: Server

  private constructor() {
    this.#server = createServer((request, response) => this.#handle(request, response))
  }

  static async start(): Promise<ByteServer> {
    const server = new ByteServer()
    await new Promise<void>((resolve) => {
      server.#server.listen(0, '127.0.0.1', () => resolve())
    })
    return server
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
    })
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const match = /^\/bytes\/(\d+)$/.exec(url.pathname)
    if (request.method === 'GET' && match) {
      const bytes = Number(match[1])
      response.writeHead(200, {
        'content-length': bytes, 'content-type': 'application/octet-stream',
      })
      const body = pseudoRandomBytes(bytes, url.searchParams.get('seed') ?? undefined)
      body.pipe(response)
      // A client that goes away mid-download must not leave the generator running.
      response.once('close', () => body.destroy())
      return
    }

    if (request.method === 'PUT' || request.method === 'POST') {
      this.#receive(request, response)
      return
    }

    response.writeHead(404).end()
  }

  #receive(request: IncomingMessage, response: ServerResponse): void {
    const hash = createHash('sha256')
    let bytes = 0
    request.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      bytes += chunk.length
    })
    request.on('end', () => {
      const upload = {bytes, sha256: hash.digest('hex')}
      this.uploads.push(upload)
      response.writeHead(200, {'content-type': 'application/json'})
      response.end(JSON.stringify(upload))
    })
  }
}
