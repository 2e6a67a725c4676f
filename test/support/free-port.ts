import {createServer, type AddressInfo} from 'node:net'

/**
 * A port on 127.0.0.1 that was free a moment ago, for servers that cannot listen on port 0
 * and report the port they got. Another process could take it in between; the servers that
 * use this fail loudly at start if so.
 */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
  })
  return port
}

/**
 * Starts a server on a free port, trying again on another port when the start fails, since
 * the port may have been taken between the check and the server binding it.
 */
export async function startOnFreePort<T>(start: (port: number) => Promise<T>, attempts = 3):
Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return await start(port)
    } catch (error) {
      if (attempt >= attempts) throw error
    }
  }
}
