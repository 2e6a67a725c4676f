import {ControlPlaneError} from '../errors/index.js'

/**
 * Builds the error for a hook answer that cannot be used, naming the event, the plugin that
 * gave it and what a user can do instead.
 */
export function unusableAnswer(event: string, plugin: string, instead: string):
(what: string) => ControlPlaneError {
  return (what) => new ControlPlaneError(
    'bad-hook-answer',
    `the ${event} hook of ${plugin} answered ${what}: update that plugin, or ${instead}`,
  )
}

/** True when `headers` is absent or an object of string values, as HTTP headers must be. */
export function areHeaders(headers: unknown): boolean {
  if (headers === undefined) return true
  if (typeof headers !== 'object' || headers === null) return false
  return Object.values(headers).every((value) => typeof value === 'string')
}
