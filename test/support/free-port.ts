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
