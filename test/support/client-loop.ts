import {runTool} from './run-tool.js'

/**
 * A client program run again and again through a forward while other tests use another one,
 * as a user keeps a second service busy. Each round must print what `expect` matches.
 */
export class ClientLoop {
  rounds = 0
  readonly failures: string[] = []
  #stopped = false
  #running: Promise<void> | undefined

  constructor(
    private readonly path: string,
    private readonly args: string[],
    private readonly expect: RegExp,
    private readonly pauseMs = 100,
  ) {}

  start(): void {
    this.#running ??= this.#loop()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#running
  }

  /**
   * Waits for a round that started after `mark` rounds were done, then fails with the first
   * failure seen so far, if any.
   */
  async assertHealthySince(mark: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.rounds <= mark + 1 && this.failures.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => {
        setTimeout(resolve, 20)
      })
    }

    if (this.failures.length > 0) throw new Error(`the second forward failed: ${this.failures[0]}`)
    if (this.rounds <= mark + 1) {
      throw new Error(`the second forward finished no round in ${timeoutMs}ms`)
    }
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const result = await runTool(this.path, this.args, {timeoutMs: 30_000})
      const stdout = result.stdout.toString('utf8')
      if (result.code !== 0 || !this.expect.test(stdout)) {
        this.failures.push(`exit ${result.code}, stdout ${JSON.stringify(stdout.slice(0, 200))}, ` +
          `stderr ${JSON.stringify(result.stderr.slice(0, 200))}`)
      }

      this.rounds++
      await new Promise((resolve) => {
        setTimeout(resolve, this.pauseMs)
      })
    }
  }
}

/**
 * Keeps `redis-cli INCR` going through `forward` for as long as it runs: the traffic of a
 * second forward, from another process, beside the one a test is about.
 */
export function redisSideTraffic(redisCli: string, forward: {port: number}): ClientLoop {
  const loop = new ClientLoop(redisCli,
    ['-h', '127.0.0.1', '-p', String(forward.port), 'INCR', 'rounds'], /^\d+\n$/)
  loop.start()
  return loop
}
