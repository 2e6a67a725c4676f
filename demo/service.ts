import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

/** Lines of the slow report, and the pause between them. */
export const REPORT_LINES = 4
const REPORT_PAUSE_MS = 400

/** The service the demo forwards to: a small HTTP API on 127.0.0.1. */
export interface DemoService {
  port: number
  close(): Promise<void>
}

/**
 * Starts the HTTP service on a port the system chooses. `/api/report` streams its lines slowly
 * so that a request can still be in flight when the forward is stopped.
 */
export async function startService(): Promise<DemoService> {
  const server: Server = createServer((request, response) => {
    // One request per connection: an idle keep-alive connection would otherwise count as an
    // open connection that the drain waits for.
    response.setHeader('connection', 'close')
    route(request, response)
  })
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
      })
    },
    port: (server.address() as AddressInfo).port,
  }
}

function route(request: IncomingMessage, response: ServerResponse): void {
  const {method, url} = request
  if (method === 'GET' && url === '/') {
    send(response, 'text/plain', 'Hello from shop/web!\n')
  } else if (method === 'GET' && url === '/api/orders') {
    send(response, 'application/json', JSON.stringify([
      {id: 1041, item: 'teapot', status: 'shipped'},
      {id: 1042, item: 'kettle', status: 'packing'},
    ]))
  } else if (method === 'POST' && url === '/api/echo') {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      send(response, 'text/plain', `shop/web received ${Buffer.byteLength(body)} bytes: ${body}\n`)
    })
  } else if (method === 'GET' && url === '/api/report') {
    streamReport(response)
  } else {
    response.statusCode = 404
    send(response, 'text/plain', `no such resource: ${method} ${url}\n`)
  }
}

function send(response: ServerResponse, type: string, body: string): void {
  response.setHeader('content-type', type)
  response.end(body)
}

function streamReport(response: ServerResponse): void {
  response.setHeader('content-type', 'text/plain')
  let line = 0
  const next = () => {
    line += 1
    response.write(`report line ${line} of ${REPORT_LINES}\n`)
    if (line === REPORT_LINES) response.end()
    else setTimeout(next, REPORT_PAUSE_MS)
  }

  next()
}
