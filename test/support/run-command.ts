import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {runCommand} from '@oclif/test'
import createDebug from 'debug'

/** The plugin's folder, which oclif loads as the root of a standalone caractrl. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const PJSON = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))

export interface InProcessRun {
  /** The exit status the process would have had. */
  exit: number
  stdout: string
  stderr: string
}

export interface InProcessOptions {
  /** Set for the run only; every other CARACTRL_ variable is unset during it. */
  env?: Record<string, string>
  /** Extra hook files by event, relative to the plugin's folder, as a host CLI declares them. */
  hooks?: Record<string, string>
  /** Debug namespaces on during the run, as DEBUG would set them; none by default. */
  debug?: string
}

/**
 * Runs `caractrl port-forward ARGS` inside the test process through oclif's own loader, for
 * runs that end on their own (errors). Words must not contain spaces: runCommand splits on them.
 */
export async function runPortForward(
  args: string[], options: InProcessOptions = {},
): Promise<InProcessRun> {
  const pjson = {...PJSON, oclif: {...PJSON.oclif, hooks: {...PJSON.oclif.hooks, ...options.hooks}}}
  const saved = {...process.env}
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('CARACTRL_')) delete process.env[key]
  }

  Object.assign(process.env, options.env)
  // The test helper's own namespace logs before output is captured, so it always stays off.
  const namespaces = createDebug.disable()
  if (options.debug) createDebug.enable(`${options.debug},-oclif-test`)
  try {
    const {error, stderr, stdout} = await runCommand(['port-forward', ...args], {pjson, root: ROOT})
    return {exit: error ? (error.oclif?.exit ?? 1) : 0, stderr, stdout}
  } finally {
    createDebug.enable(namespaces)
    for (const key of Object.keys(process.env)) {
      if (!(key in saved)) delete process.env[key]
    }

    Object.assign(process.env, saved)
  }
}

/**
 * Asserts the shape every failure must have: exactly one line on stderr, starting with
 * "Error: ", without a stack frame, and nothing on stdout. Returns that line.
 */
export function errorLine(run: {stdout: string; stderr: string}): string {
  const lines = run.stderr.split('\n').filter((line) => line !== '')
  const problems: string[] = []
  if (run.stdout !== '') problems.push(`stdout is not empty: ${run.stdout}`)
  if (lines.length !== 1) problems.push(`expected one line on stderr, got ${lines.length}`)
  if (lines.some((line) => /^\s+at /.test(line))) problems.push('stderr holds a stack trace')
  const last = lines.at(-1) ?? ''
  if (!last.startsWith('Error: ')) problems.push('the last line does not start with "Error: "')
  if (problems.length > 0) throw new Error(`${problems.join('; ')}; stderr was:\n${run.stderr}`)
  return last
}
