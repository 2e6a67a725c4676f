import {spawn, type ChildProcess} from 'node:child_process'
import {connect, type Socket} from 'node:net'

// Listens with the smallest queue, says where, then blocks its event loop for good, so that
// no connection is ever accepted: the queue fills, and the kernel ignores further handshakes.
const LISTENER = `
const server = require('node:net').createServer()
server.listen({backlog: 1, host: '127.0.0.1', port: 0}, () => {
  process.stdout.write(server.address().port + '\\n', () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  })
})
`

/**
 * A port on 127.0.0.1 whose listener never accepts and whose queue is full: a client's
 * connect neither succeeds nor fails, as with a host that drops packets.
 */
export class UnacceptedPort {
  readonly port: number
  #child: ChildProcess
  #fillers: Socket[]

  private constructor(port: number, child: ChildProcess, fillers: Socket[]) {
    this.port = port
    this.#child = child
    this.#fillers = fillers
  }

  static async start(): Promise<UnacceptedPort> {
    const child = spawn(process.execPath, ['-e', LISTENER], {stdio: ['ignore', 'pipe', 'inherit']})
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').once('data', (text: string) => resolve(Number(text.trim())))
      child.once('exit', (code) => reject(new Error(`listener exited with ${code}`)))
    })

    // The queue holds a connection or two more than its backlog; fill it until one hangs.
    const fillers: Socket[] = []
    for (let tries = 0; tries < 16; tries++) {
      const socket = connect(port, '127.0.0.1')
      socket.on('error', () => {})
      fillers.push(socket)
      const connected = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 300)
        socket.once('connect', () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
      if (!connected) return new UnacceptedPort(port, child, fillers)
    }

    child.kill('SIGKILL')
    for (const socket of fillers) socket.destroy()
    throw new Error('the listener\'s queue never filled up')
  }

  async close(): Promise<void> {
    for (const socket of this.#fillers) socket.destroy()
    if (this.#child.exitCode === null) {
      const exited = new Promise((resolve) => {
        this.#child.once('exit', resolve)
      })
      this.#child.kill('SIGKILL')
      await exited
    }
  }
}
