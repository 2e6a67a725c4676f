import {spawn, type ChildProcess} from 'node:child_process'
import {createHash} from 'node:crypto'

export interface ToolOptions {
  /** Written to the program's stdin, which is then closed. */
  input?: Buffer | string
  env?: NodeJS.ProcessEnv
  /** The program is killed after this long; a test should never get there. */
  timeoutMs?: number
}

export interface ToolResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
}

export interface HashedResult extends Omit<ToolResult, 'stdout'> {
  /** sha256 of everything the program wrote to stdout. */
  sha256: string
  bytes: number
}

/** Runs a client program to its end and keeps what it printed. */
export async function runTool(path: string, args: string[], options: ToolOptions = {}):
Promise<ToolResult> {
  const chunks: Buffer[] = []
  const child = start(path, args, options)
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk))
  const result = await finished(child, options)
  return {...result, stdout: Buffer.concat(chunks)}
}

/** Runs a client program whose output is too large to keep; only its hash is kept. */
export async function hashTool(path: string, args: string[], options: ToolOptions = {}):
Promise<HashedResult> {
  const hash = createHash('sha256')
  let bytes = 0
  const child = start(path, args, options)
  child.stdout!.on('data', (chunk: Buffer) => {
    hash.update(chunk)
    bytes += chunk.length
  })
  const result = await finished(child, options)
  return {...result, bytes, sha256: hash.digest('hex')}
}

/** Fails with the program's own words when it did not exit 0. */
export function assertSucceeded(
  result: {code: number | null; signal: string | null; stderr: string}, what: string,
): void {
  if (result.code === 0) return

  const how = result.signal ? `was killed by ${result.signal}` : `exited ${result.code}`
  throw new Error(`${what} ${how}:\n${result.stderr.slice(-4000)}`)
}

function start(path: string, args: string[], options: ToolOptions): ChildProcess {
  const child = spawn(path, args, {
    env: {...process.env, ...options.env},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin!.on('error', () => {})
  child.stdin!.end(options.input)
  return child
}

async function finished(child: ChildProcess, options: ToolOptions):
Promise<Omit<ToolResult, 'stdout'>> {
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stderr})
    })
  })
}
