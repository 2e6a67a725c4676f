import {UsageError} from '../errors/index.js'

const UNIT_MS: Record<string, number> = {'': 1000, h: 3_600_000, m: 60_000, ms: 1, s: 1000}
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/

// The longest delay a Node.js timer keeps; a longer one silently fires at once.
const MAX_MS = 2_147_483_647

/** Reads `500ms`, `10s`, `2m`, `1h` or a bare number of seconds, as milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const match = DURATION.exec(value.trim())
  if (!match) {
    throw new UsageError(`--${flag} "${value}" is not a duration: write e.g. 500ms, 10s or 2m`)
  }

  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] ?? ''])
  if (ms > MAX_MS) {
    throw new UsageError(`--${flag} "${value}" is too long: use at most 24 days, e.g. 24h`)
  }
  return ms
}
