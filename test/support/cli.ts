import {spawn, type ChildProcess} from 'node:child_process'
import {fileURLToPath} from 'node:url'

/** The built CLI, run the way a user runs it. */
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/**
 * A `port-forward` process started by a test; `bin` may name another host CLI's entry, and
 * `node` another Node.js to run it with.
 */
export class RunningCli {
  readonly child: ChildProcess
  readonly exited: Promise<Exit>
  stdout = ''
  stderr = ''
  #waiters: Array<() => void> = []

  constructor(args: string[], env: NodeJS.ProcessEnv = {}, bin = BIN, node = process.execPath) {
    this.child = spawn(node, [bin, ...args], {
      env: {...cleanEnv(), ...env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text
      this.#wake()
    })
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text
      this.#wake()
    })
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.#wake()
        resolve({code, signal})
      })
    })
  }

  /** Waits until stderr (or stdout) matches, or fails with what was printed. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000, stream: 'stderr' | 'stdout' = 'stderr'):
  Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = this[stream].match(pattern)
      if (match) return match
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `stderr never matched ${pattern}; exit ${this.child.exitCode}:\n${this.stderr}`,
        )
      }

      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
  }

  /** Local ports of the confirmation lines, in order, once `count` of them are printed. */
  async ready(count = 1): Promise<number[]> {
    const line = /Forwarding from \S+:(\d+) -> /g
    await this.waitFor(new RegExp(`(?:Forwarding from [^\\n]*\\n[^]*){${count}}`))
    return [...this.stderr.matchAll(line)].map((match) => Number(match[1]))
  }

  signal(signal: NodeJS.Signals = 'SIGINT'): void {
    this.child.kill(signal)
  }

  /** Stops the process whatever state it is in; for `after` hooks. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    await this.exited
  }

  #wake(): void {
    for (const resolve of this.#waiters.splice(0)) resolve()
  }
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, bin = BIN,
  node = process.execPath): Promise<Exit & {stdout: string; stderr: string}> {
  const cli = new RunningCli(args, env, bin, node)
  cli.child.stdin!.end()
  const exit = await cli.exited
  return {...exit, stderr: cli.stderr, stdout: cli.stdout}
}

/** The test's environment without settings that would point the CLI somewhere real. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = {...process.env}
  for (const key of Object.keys(env)) {
    if (key.startsWith('CARACTRL_') || key === 'DEBUG' || /^(https?|no)_proxy$/i.test(key)) {
      delete env[key]
    }
  }

  return env
}
