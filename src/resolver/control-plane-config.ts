import {ControlPlaneError, UsageError} from '../errors/index.js'
import type {HookAnswer} from '../hooks/collect-answers.js'
import type {ControlPlaneAnswer, ControlPlaneSettings} from '../hooks/port-forward-hooks.js'
import {redactUrl} from '../redact/redact-url.js'
import {areHeaders, unusableAnswer} from './answer-checks.js'
import {checkPem, readCaFile, type TlsTrust} from './tls-trust.js'

/** Where the control plane is and how to authenticate, once every source has been read. */
export interface ControlPlaneConfig {
  url: URL
  token?: string
  headers: Record<string, string>
  ca?: string
  insecureSkipTlsVerify: boolean
  /** Where the URL came from, for messages: `--server`, a plugin name, an env var. */
  source: string
  /** Where the CA came from, for messages. */
  caSource?: string
}

export const DEFAULT_SERVER = 'http://localhost:8080'

/** Command flags that bear on the control plane. */
export interface ControlPlaneFlags {
  server?: string
  /** Path of a PEM CA file. */
  certificateAuthority?: string
  insecureSkipTlsVerify?: boolean
}

export interface ConfigSources {
  flags: ControlPlaneFlags
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
    if (!sameAnswer(other.answer, chosen.answer)) {
      warnings.push(
        `plugins ${chosen.plugin} and ${other.plugin} both answer caractrl:control-plane ` +
        `with different settings; using ${chosen.plugin}'s`,
      )
    }
  }

  const hook = chosen?.answer
  const hookSource = chosen && `the caractrl:control-plane hook of ${chosen.plugin}`
  const [rawUrl, source] = flags.server ? [flags.server, '--server'] :
    hook ? [hook.url, hookSource] :
      env.CARACTRL_SERVER ? [env.CARACTRL_SERVER, 'CARACTRL_SERVER'] :
        [DEFAULT_SERVER, 'the default']

  const trust = tlsTrust(flags, env, hook && {ca: hook.ca, source: hookSource})
  return {
    config: {
      ca: trust.ca,
      caSource: trust.caSource,
      headers: hook?.headers ?? {},
      insecureSkipTlsVerify: flags.insecureSkipTlsVerify || (hook?.insecureSkipTlsVerify ?? false),
      source,
      token: hook?.token || env.CARACTRL_TOKEN || undefined,
      url: parseServerUrl(rawUrl, source),
    },
    warnings,
  }
}

/**
 * Certificate trust without the control plane, as `--node` uses it: the flag, then
 * `CARACTRL_CA_FILE`, then the hook's CA when one is known.
 */
export function tlsTrust(
  flags: ControlPlaneFlags, env: NodeJS.ProcessEnv, hook?: {ca?: string; source: string},
): TlsTrust {
  const rejectUnauthorized = !flags.insecureSkipTlsVerify
  if (flags.certificateAuthority) {
    return {
      ca: readCaFile(flags.certificateAuthority, '--certificate-authority'),
      caSource: '--certificate-authority',
      rejectUnauthorized,
    }
  }

  if (hook?.ca) return {ca: hook.ca, caSource: hook.source, rejectUnauthorized}
  if (env.CARACTRL_CA_FILE) {
    return {
      ca: readCaFile(env.CARACTRL_CA_FILE, 'CARACTRL_CA_FILE'),
      caSource: 'CARACTRL_CA_FILE',
      rejectUnauthorized,
    }
  }

  return {rejectUnauthorized}
}

/** The settings a `caractrl:resolve-agent` handler is told about. */
export function controlPlaneSettings(config: ControlPlaneConfig): ControlPlaneSettings {
  return {
    ca: config.ca,
    headers: {...config.headers},
    insecureSkipTlsVerify: config.insecureSkipTlsVerify,
    token: config.token,
    url: config.url.toString(),
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

    throw new ControlPlaneError(
      'bad-server-url',
      `${problem}: fix it, or pass --server https://host:port`,
    )
  }

  return url
}

function sameAnswer(a: ControlPlaneAnswer, b: ControlPlaneAnswer): boolean {
  const key = (answer: ControlPlaneAnswer) => JSON.stringify([
    answer.url, answer.token ?? '', answer.ca ?? '', Boolean(answer.insecureSkipTlsVerify),
    Object.entries(answer.headers ?? {}).sort(),
  ])
  return key(a) === key(b)
}

function checkAnswer(entry: HookAnswer<unknown>): HookAnswer<ControlPlaneAnswer> {
  const answer = entry.answer as Partial<ControlPlaneAnswer>
  const bad = unusableAnswer('caractrl:control-plane', entry.plugin, 'pass --server')
  if (typeof answer !== 'object' || typeof answer.url !== 'string') throw bad('without a url')
  if (answer.token !== undefined && typeof answer.token !== 'string') {
    throw bad('a token that is not a string')
  }

  if (answer.ca !== undefined && typeof answer.ca !== 'string') {
    throw bad('a ca that is not a PEM string')
  }
  if (!areHeaders(answer.headers)) throw bad('headers that are not strings')

  if (answer.ca !== undefined) {
    try {
      checkPem(answer.ca, 'its ca')
    } catch (error) {
      if (error instanceof UsageError) throw bad('a ca without a PEM certificate')
      throw error
    }
  }

  return entry as HookAnswer<ControlPlaneAnswer>
}
