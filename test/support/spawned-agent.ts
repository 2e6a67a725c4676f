import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {fileURLToPath} from 'node:url'

const SCRIPT = fileURLToPath(new URL('agent-process.ts', import.meta.url))

/** The test agent running as a child process, for faults that need a process: kill, stop. */
export class SpawnedAgent {
  #child: ChildProcess
  readonly port: number

  private constructor(child: ChildProcess, port: number) {
    this.#child = child
    this.port = port
  }

  /** Starts the agent; a given port lets a restarted agent come back where it was. */
  static async start(port = 0): Promise<SpawnedAgent> {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, String(port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout!.setEncoding('utf8')
    for await (const text of child.stdout!) {
      output += text as string
      const match = /listening (\d+)/.exec(output)
      if (match) return new SpawnedAgent(child, Number(match[1]))
    }

    throw new Error(`the agent process exited before listening (exit ${child.exitCode})`)
  }

  get pid(): number {
    return this.#child.pid!
  }

  /** `host:port`, as `--node` takes it. */
  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal)
  }

  /** Kills the process outright and waits until it is gone. */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return

    const exited = once(this.#child, 'exit')
    this.#child.kill('SIGKILL')
    await exited
  }
}
