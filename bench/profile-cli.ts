/**
 * Runs one workload through the CLI under `node --cpu-prof` and leaves the profile in
 * bench/results/profiles/. Usage:
 *   node --import tsx bench/profile-cli.ts upload|download|connections [test|go]
 * The second word picks the agent: the Node test agent (the default) or the Go reference.
 */
import {fork, spawn} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {BIN} from '../test/support/cli.js'
import {referenceBinaries} from '../test/support/reference.js'
import {startReferenceAgent} from '../test/support/reference-agent.js'
import {cliArguments, firstLine, stopChild} from './configurations.js'
import {download, newConnections, upload} from './load.js'
import {cpuSeconds} from './proc-stats.js'

const workload = process.argv[2] ?? 'upload'
const agentKind = process.argv[3] ?? 'test'
const directory = fileURLToPath(new URL('results/profiles/', import.meta.url))
mkdirSync(directory, {recursive: true})

const target = fork(new URL('target-process.ts', import.meta.url), {
  execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
})
const {port: targetPort} = JSON.parse(await firstLine(target)) as {port: number}
const agent = await startAgent()

async function startAgent(): Promise<{address: string; stop(): Promise<void>}> {
  if (agentKind === 'go') {
    const reference = await referenceBinaries()
    if (typeof reference === 'string') throw new Error(reference)
    const go = await startReferenceAgent(reference.agent)
    return {address: go.address, stop: () => go.close()}
  }

  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/agent-process.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const {address} = JSON.parse(await firstLine(child)) as {address: string}
  return {address, stop: () => stopChild(child)}
}

const cli = spawn(process.execPath, [
  '--cpu-prof', '--cpu-prof-dir', directory, BIN, ...cliArguments(agent.address, targetPort),
], {stdio: ['ignore', 'ignore', 'pipe']})
let stderr = ''
const port = await new Promise<number>((resolve) => {
  cli.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
    const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(stderr)
    if (match) resolve(Number(match[1]))
  })
})

const before = cpuSeconds(cli.pid!)
const started = Date.now()
if (workload === 'upload') await upload(port, 1024 ** 3)
else if (workload === 'download') await download(port, 1024 ** 3)
else await newConnections(port, 1000)
const cpu = cpuSeconds(cli.pid!) - before
console.log(`${workload}: ${(Date.now() - started) / 1000} s, CLI CPU ${cpu.toFixed(2)} s`)

// A clean exit is what makes node write the profile.
const exited = new Promise((resolve) => {
  cli.once('exit', resolve)
})
cli.kill('SIGINT')
await exited
await agent.stop()
await stopChild(target)
