import {spawn} from 'node:child_process'

import {cliArguments, goClientArguments, GO_CLIENT_READY, stopChild} from '../configurations.js'
import {packedBin} from '../packed-cli.js'
import type {Scenario} from './scenario.js'

const CLI_READY = /Forwarding from 127\.0\.0\.1:\d+/

/** Node printing the same line and nothing else: the floor under the CLI's start. */
const BARE_NODE =
  'process.stderr.write("Forwarding from 127.0.0.1:1\\n"); setInterval(() => {}, 1000)'

/** Milliseconds from spawning a command to its line matching `ready` on stderr. */
async function timeToLine(command: string, args: string[], ready: RegExp): Promise<number> {
  const started = process.hrtime.bigint()
  const child = spawn(command, args, {stdio: ['ignore', 'ignore', 'pipe']})
  try {
    let stderr = ''
    await new Promise<void>((resolve, reject) => {
      child.stderr!.setEncoding('utf8').on('data', (text: string) => {
        stderr += text
        if (ready.test(stderr)) resolve()
      })
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)))
    })
    return Number(process.hrtime.bigint() - started) / 1e6
  } finally {
    await stopChild(child)
  }
}

export const startUp: Scenario = {
  keys: ['direct', 'cli-test', 'go-client'],
  async measure(config, {setup}) {
    if (config.key === 'direct') {
      return {ms: await timeToLine(process.execPath, ['-e', BARE_NODE], CLI_READY)}
    }

    const targetPort = setup.configurations.find((each) => each.key === 'direct')!.port
    if (config.key === 'go-client') {
      const args = goClientArguments(setup.goAgent!, targetPort)
      return {ms: await timeToLine(setup.goClient!, args, GO_CLIENT_READY)}
    }

    const args = [await packedBin(), ...cliArguments(setup.testAgent, targetPort)]
    return {ms: await timeToLine(process.execPath, args, CLI_READY)}
  },
  name: 'start-up',
  repetitions: 20,
  title: 'process start to the confirmation line, installed from npm pack (direct TCP column: ' +
    'bare node printing it)',
}
