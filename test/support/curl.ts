import {spawn, type ChildProcess} from 'node:child_process'
import {createHash} from 'node:crypto'

import {findTool, missingTools} from './require-tool.js'

/** Why curl cannot be run here, or undefined when it can. */
export function curlMissing(): string | undefined {
  return missingTools([{debianPackage: 'curl', name: 'curl'}])
}

export function curlPath(): string {
  const path = findTool('curl')
  if (!path) throw new Error(curlMissing())
  return path
}

export interface DownloadResult {
  code: number | null
  signal: NodeJS.Signals | null
  bytes: number
  sha256: string
  stderr: string
}

/**
 * A curl download whose body is hashed as it arrives. Pausing it stops reading curl's
 * output, so curl stops reading the connection and the whole path fills up behind it.
 */
export class CurlDownload {
  readonly child: ChildProcess
  readonly done: Promise<DownloadResult>
  bytes = 0
  #hash = createHash('sha256')
  #stderr = ''
  #watchers: Array<{atLeast: number; resolve: () => void; reject: (error: Error) => void}> = []

  constructor(url: string) {
    this.child = spawn(curlPath(), ['--silent', '--show-error', '--fail', '--output', '-', url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child.stdout!.on('data', (chunk: Buffer) => this.#onData(chunk))
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.#stderr += text
    })
    this.done = new Promise((resolve, reject) => {
      this.child.once('error', reject)
      this.child.once('close', (code, signal) => {
        for (const watcher of this.#watchers.splice(0)) {
          watcher.reject(new Error(`curl ended after ${this.bytes} bytes: ${this.#stderr.trim()}`))
        }

        const sha256 = this.#hash.digest('hex')
        resolve({bytes: this.bytes, code, sha256, signal, stderr: this.#stderr})
      })
    })
  }

  /** Resolves once `bytes` bytes of the body have arrived. */
  async received(bytes: number): Promise<void> {
    if (this.bytes >= bytes) return
    await new Promise<void>((resolve, reject) => {
      this.#watchers.push({atLeast: bytes, reject, resolve})
    })
  }

  pause(): void {
    this.child.stdout!.pause()
  }

  resume(): void {
    this.child.stdout!.resume()
  }

  #onData(chunk: Buffer): void {
    this.#hash.update(chunk)
    this.bytes += chunk.length
    this.#watchers = this.#watchers.filter((watcher) => {
      if (this.bytes < watcher.atLeast) return true
      watcher.resolve()
      return false
    })
  }
}
