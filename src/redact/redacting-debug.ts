import {formatWithOptions, type InspectOptions} from 'node:util'

import createDebug from 'debug'

import {redactUrls} from './redact-url.js'

// A bearer token printed by a library's own debug line, as header dumps show it.
const BEARER = /\b(bearer\s+)[\w~+/.=-]+/gi
// `user:password@host` without a scheme, as a mistyped address shows up in argv dumps.
const BARE_USER_INFO = /(^|[\s'"=,[(])[^\s'"/@:]+:[^\s'"/@]+@(?=[\w[])/g

/** Marks the writer installed here, so that installing twice changes nothing. */
const REDACTING = Symbol.for('caractrl:port-forward:redacting-debug')

/**
 * Sends every line of the `debug` package (this plugin's, and that of every library sharing
 * its copy, oclif's included when it does) through the redaction of URLs and bearer
 * tokens, so that `DEBUG=*` shows no credential either.
 */
export function redactDebugOutput(): void {
  const current = createDebug.log as {[REDACTING]?: boolean}
  if (current[REDACTING]) return

  const write = (...args: unknown[]) => {
    const line = formatWithOptions((createDebug.inspectOpts ?? {}) as InspectOptions, ...args)
    const safe = redactUrls(line).replaceAll(BEARER, '$1***').replaceAll(BARE_USER_INFO, '$1***@')
    return process.stderr.write(`${safe}\n`)
  }

  createDebug.log = Object.assign(write, {[REDACTING]: true})
}
