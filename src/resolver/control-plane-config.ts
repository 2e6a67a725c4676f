import {ControlPlaneError, UsageError} from '../errors/index.js'
import type {ControlPlaneAnswer, HookAnswer} from '../hooks/control-plane-hook.js'
import {redactUrl} from '../redact/redact-url.js'

/** Where the control plane is and how to authenticate, once every source has been read. */
export interface ControlPlaneConfig {
  url: URL
  token?: string
  headers: Record<string, string>
  ca?: string
  insecureSkipTlsVerify: boolean
  /** Where the URL came from, for messages: `--server`, a plugin name, an env var. */
  source: string
}

export const DEFAULT_SERVER = 'http://localhost:8080'

export interface ConfigSources {
  flags: {server?: string}
  answers: Array<HookAnswer<unknown>>
  env: NodeJS.ProcessEnv
}

/**
 * Merges the sources, field by field: command flags, then the host's hook answer, then the
 * environment, then the default. Returns warnings for a person to read (for example two hook
 * answers that disagree).
 */
export function controlPlaneConfig({answers, env, flags}: ConfigSources): {
  config: ControlPlaneConfig
  warnings: string[]
} {
  const valid = answers.map((answer) => checkAnswer(answer))
  const [chosen, ...others] = valid
  const warnings: string[] = []
  for (const other of others) {
    if (other.answer.url !== chosen.answer.url || other.answer.token !== chosen.answer.token) {
      warnings.push(
        `plugins ${chosen.plugin} and ${other.plugin} both answer caractrl:control-plane ` +
        `with different settings; using ${chosen.plugin}'s`,
      )
    }
  }

  const hook = chosen?.answer
  const [rawUrl, source] = flags.server ? [flags.server, '--server'] :
    hook ? [hook.url, `the caractrl:control-plane hook of ${chosen.plugin}`] :
      env.CARACTRL_SERVER ? [env.CARACTRL_SERVER, 'CARACTRL_SERVER'] :
        [DEFAULT_SERVER, 'the default']

  return {
    config: {
      ca: hook?.ca,
      headers: hook?.headers ?? {},
      insecureSkipTlsVerify: hook?.insecureSkipTlsVerify ?? false,
      source,
      token: hook?.token ?? (env.CARACTRL_TOKEN || undefined),
      url: parseServerUrl(rawUrl, source),
    },
    warnings,
  }
}

export function parseServerUrl(raw: string, source: string): URL {
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {}

  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    const problem =
      `control-plane URL "${redactUrl(raw)}" from ${source} is not an http:// or https:// URL`
    // A bad --server is a mistake on this command line; a bad setting elsewhere is not.
    if (source === '--server') {
      throw new UsageError(`${problem}: write e.g. --server https://host:port`)
    }

    throw new ControlPlaneError('bad-server-url', `${problem}: fix it, or pass --server https://host:port`)
  }

  return url
}

function checkAnswer(entry: HookAnswer<unknown>): HookAnswer<ControlPlaneAnswer> {
  const answer = entry.answer as Partial<ControlPlaneAnswer>
  const bad = (what: string) => new ControlPlaneError(
    'bad-hook-answer',
    `the caractrl:control-plane hook of ${entry.plugin} answered ${what}: ` +
    'update that plugin, or pass --server',
  )
  if (typeof answer !== 'object' || typeof answer.url !== 'string') throw bad('without a url')
  if (answer.token !== undefined && typeof answer.token !== 'string') throw bad('a token that is not a string')
  if (answer.headers !== undefined) {
    const values = typeof answer.headers === 'object' && answer.headers !== null ?
      Object.values(answer.headers) :
      [undefined]
    if (values.some((value) => typeof value !== 'string')) throw bad('headers that are not strings')
  }

  return entry as HookAnswer<ControlPlaneAnswer>
}
