import {spawn, type ChildProcess} from 'node:child_process'

import {RunningCli} from '../test/support/cli.js'
import {freePort} from '../test/support/free-port.js'
import {referenceBinaries} from '../test/support/reference.js'
import {startReferenceAgent, type ReferenceAgent} from '../test/support/reference-agent.js'
import {LISTEN_BACKLOG} from '../src/tunnel/limits.js'
import {dial, sleep} from './load.js'

/** The ways of reaching the target that every scenario compares. */
export type ConfigKey = 'direct' | 'socat' | 'cli-test' | 'cli-go' | 'go-client'

export const CONFIG_KEYS: ConfigKey[] = ['direct', 'socat', 'cli-test', 'cli-go', 'go-client']

export const CONFIG_LABELS: Record<ConfigKey, string> = {
  'cli-go': 'CLI → Go agent',
  'cli-test': 'CLI → test agent',
  direct: 'direct TCP',
  'go-client': 'Go client → Go agent',
  socat: 'socat relay',
}

/** One configuration, running, or the reason it cannot run here. */
export interface Configuration {
  key: ConfigKey
  /** Where the load generator connects. */
  port: number
  /** The relay process whose CPU and memory are measured; absent for direct TCP. */
  pid?: number
  unavailable?: string
}

/** Everything started for a run, with what stops it. */
export interface Setup {
  configurations: Configuration[]
  /** Address of the test agent, for the start-up scenario. */
  testAgent: string
  goAgent?: string
  goClient?: string
  stop(): Promise<void>
}

/** The project and service the forwards name; the agents map every name to 127.0.0.1. */
export const TARGET_NAME = 'bench/target'

/** Starts every relay in front of the target at `targetPort`. */
export async function startConfigurations(targetPort: number): Promise<Setup> {
  const stops: Array<() => Promise<void>> = []
  const configurations: Configuration[] = [{key: 'direct', port: targetPort}]

  configurations.push(await startSocat(targetPort, stops))

  const testAgent = await startAgentProcess(stops)
  configurations.push(await startCli('cli-test', testAgent, targetPort, stops))

  const reference = await referenceBinaries().catch((error: Error) => error.message)
  let goAgent: ReferenceAgent | undefined
  if (typeof reference === 'string') {
    const unavailable = `Go reference not built: ${reference}`
    configurations.push({key: 'cli-go', port: 0, unavailable})
    configurations.push({key: 'go-client', port: 0, unavailable})
  } else {
    goAgent = await startReferenceAgent(reference.agent)
    const agent = goAgent
    stops.push(() => agent.close())
    configurations.push(await startCli('cli-go', goAgent.address, targetPort, stops))
    configurations.push(await startGoClient(reference.client, goAgent.address, targetPort, stops))
  }

  return {
    configurations,
    goAgent: goAgent?.address,
    goClient: typeof reference === 'string' ? undefined : reference.client,
    async stop() {
      for (const stop of stops.reverse()) await stop()
    },
    testAgent,
  }
}

/** Arguments of the CLI forwarding a system-chosen local port to `targetPort` via `agent`. */
export function cliArguments(agent: string, targetPort: number): string[] {
  return ['port-forward', TARGET_NAME, `:${targetPort}`, '--node', agent, '--address', '127.0.0.1']
}

/** Arguments of the Go reference client doing the same. */
export function goClientArguments(agent: string, targetPort: number): string[] {
  return [
    '-listen', '127.0.0.1:0', '-agent', agent, '-target', TARGET_NAME,
    '-remote-port', String(targetPort),
  ]
}

/** What the Go client prints once it listens; group 1 is the port. */
export const GO_CLIENT_READY = /go-client forwarding 127\.0\.0\.1:(\d+)/

/**
 * socat's own backlog of 5 loses most of a burst of 1000 connections to accept-queue
 * overflows, which would measure its default rather than the relaying; it gets the CLI's.
 */
async function startSocat(targetPort: number, stops: Array<() => Promise<void>>):
Promise<Configuration> {
  const port = await freePort()
  const child = spawn('socat', [
    `TCP-LISTEN:${port},fork,reuseaddr,bind=127.0.0.1,backlog=${LISTEN_BACKLOG}`,
    `TCP:127.0.0.1:${targetPort}`,
  ], {stdio: ['ignore', 'ignore', 'pipe']})
  const failed = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(error.message))
    child.once('exit', (code) => resolve(`socat exited with ${code}`))
  })
  stops.push(() => stopChild(child))
  for (let attempt = 0; attempt < 100; attempt++) {
    const probe = dial(port).then((socket) => socket.destroy() && true, () => false)
    const outcome = await Promise.race([probe, failed])
    if (typeof outcome === 'string') return {key: 'socat', port: 0, unavailable: outcome}
    if (outcome) {
      // A probe that connected leaves a forked child relaying nothing; it exits on its own.
      return {key: 'socat', pid: child.pid, port}
    }

    await sleep(50)
  }

  return {key: 'socat', port: 0, unavailable: 'socat never listened'}
}

async function startAgentProcess(stops: Array<() => Promise<void>>): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/agent-process.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  stops.push(() => stopChild(child))
  const line = await firstLine(child)
  return (JSON.parse(line) as {address: string}).address
}

async function startCli(key: ConfigKey, agent: string, targetPort: number,
  stops: Array<() => Promise<void>>): Promise<Configuration> {
  const cli = new RunningCli(cliArguments(agent, targetPort))
  stops.push(() => cli.kill())
  const [port] = await cli.ready()
  return {key, pid: cli.child.pid, port}
}

async function startGoClient(binary: string, agent: string, targetPort: number,
  stops: Array<() => Promise<void>>): Promise<Configuration> {
  const child = spawn(binary, goClientArguments(agent, targetPort), {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  stops.push(() => stopChild(child))
  let stderr = ''
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr += text
      const match = GO_CLIENT_READY.exec(stderr)
      if (match) resolve(Number(match[1]))
    })
    child.once('exit', () => reject(new Error(`the Go client exited: ${stderr}`)))
  })
  return {key: 'go-client', pid: child.pid, port}
}

/** The first line a child prints on stdout. */
export async function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk
      const newline = text.indexOf('\n')
      if (newline !== -1) resolve(text.slice(0, newline))
    })
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing`)))
  })
}

/** Kills a child started here and waits for it. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return

  const exited = new Promise((resolve) => {
    child.once('exit', resolve)
  })
  child.kill('SIGKILL')
  await exited
}
