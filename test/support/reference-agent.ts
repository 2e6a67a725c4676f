import {spawn, type ChildProcess} from 'node:child_process'

import {freePort} from './free-port.js'

/** The Go reference agent, running. */
export interface ReferenceAgent {
  port: number
  /** `host:port`, as `--node` takes it. */
  address: string
  /** What it printed, for failure messages. */
  readonly output: string
  close(): Promise<void>
}

/** Starts the reference agent binary on a free loopback port and waits until it is healthy. */
export async function startReferenceAgent(
  binary: string, args: string[] = [],
): Promise<ReferenceAgent> {
  const port = await freePort()
  const address = `127.0.0.1:${port}`
  const child: ChildProcess = spawn(binary, ['-listen', address, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    output += text
  })
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    output += text
  })
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
  })
  const agent: ReferenceAgent = {
    address,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
    get output() {
      return output
    },
    port,
  }

  try {
    await waitHealthy(address, () => child.exitCode !== null)
  } catch (error) {
    await agent.close()
    throw new Error(`${(error as Error).message}; it printed:\n${output}`)
  }

  return agent
}

async function waitHealthy(
  address: string, gone: () => boolean, timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const response = await fetch(`http://${address}/healthz`)
      if (response.ok && (await response.text()).trim() === 'OK') return
    } catch {}

    if (gone()) throw new Error(`the reference agent on ${address} exited before it was healthy`)
    if (Date.now() > deadline) {
      throw new Error(`the reference agent on ${address} never got healthy`)
    }
    await new Promise((resolve) => {
      setTimeout(resolve, 50)
    })
  }
}
