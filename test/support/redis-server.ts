import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import createDebug from 'debug'

import {startOnFreePort} from './free-port.js'
import {findTool, missingTools} from './require-tool.js'

const debug = createDebug('caractrl:port-forward:test:redis')

/** Why a Redis server and its clients cannot be run here, or undefined when they can. */
export function redisMissing(): string | undefined {
  return missingTools([
    {debianPackage: 'redis-server', name: 'redis-server'},
    {debianPackage: 'redis-tools', name: 'redis-cli'},
    {debianPackage: 'redis-tools', name: 'redis-benchmark'},
  ])
}

/** The path of a Redis client program found on PATH. */
export function redisTool(name: string): string {
  const path = findTool(name)
  if (!path) throw new Error(redisMissing() ?? `${name} not found`)
  return path
}

/**
 * A throwaway Redis server on 127.0.0.1: its own port, its working folder in a temporary
 * folder, nothing saved to disk.
 */
export class RedisServer {
  readonly port: number
  #child: ChildProcess
  #dir: string
  #exited: Promise<void>

  private constructor(child: ChildProcess, dir: string, port: number) {
    this.#child = child
    this.#dir = dir
    this.port = port
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => resolve())
    })
  }

  static async start(): Promise<RedisServer> {
    const server = await startOnFreePort((port) => RedisServer.#startAt(port))
    debug('started in %s on port %d', server.#dir, server.port)
    return server
  }

  static async #startAt(port: number): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), 'caractrl-redis-'))
    const child = spawn(redisTool('redis-server'), [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'warning',
    ], {stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      output += text
    })
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      output += text
    })
    const server = new RedisServer(child, dir, port)
    try {
      await waitForPong(port, child)
    } catch (error) {
      await server.stop()
      throw new Error(`redis-server did not start: ${(error as Error).message}\n${output}`)
    }

    return server
  }

  async stop(): Promise<void> {
    const child = this.#child
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await this.#exited
    rmSync(this.#dir, {force: true, recursive: true})
  }
}

/** Polls with PING until the server answers, it exits, or ten seconds pass. */
async function waitForPong(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`it exited ${child.exitCode}`)
    if (await pings(port)) return
    if (Date.now() > deadline) throw new Error('no answer to PING within 10s')
    await new Promise((resolve) => {
      setTimeout(resolve, 50)
    })
  }
}

async function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    socket.setEncoding('utf8')
    socket.once('error', () => resolve(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (text: string) => {
      reply += text
      if (reply.includes('\r\n')) {
        socket.destroy()
        resolve(reply.startsWith('+PONG'))
      }
    })
  })
}
