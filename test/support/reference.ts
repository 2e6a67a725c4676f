import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

/** The Go reference agent and client beside the project, when present. */
const SOURCE = fileURLToPath(new URL('../../../shared/reference', import.meta.url))
const OUT = join(tmpdir(), 'caractrl-port-forward-reference')

export interface ReferenceBinaries {
  agent: string
  client: string
}

let built: Promise<ReferenceBinaries | string> | undefined

/**
 * Builds the reference binaries once per run. Resolves with their paths, or with the reason
 * they cannot be had here. Under CI=true that reason is a failure instead, so that CI cannot
 * pass by skipping.
 */
export async function referenceBinaries(): Promise<ReferenceBinaries | string> {
  built ??= build()
  const result = await built
  if (typeof result === 'string' && process.env.CI === 'true') {
    throw new Error(`the Go reference is required under CI=true: ${result}`)
  }

  return result
}

async function build(): Promise<ReferenceBinaries | string> {
  if (!existsSync(join(SOURCE, 'build.sh'))) return `no reference sources at ${SOURCE}`

  try {
    await promisify(execFile)('bash', [join(SOURCE, 'build.sh'), OUT], {timeout: 300_000})
  } catch (error) {
    return 'the reference did not build ' +
      `(needs golang-go and golang-github-gorilla-websocket-dev): ${
        (error as Error).message.split('\n')[0]}`
  }

  return {agent: join(OUT, 'agent'), client: join(OUT, 'client')}
}
