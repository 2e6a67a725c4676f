import {UsageError} from '../errors/index.js'

/** One forwarded pair. `local` 0 lets the operating system choose a free port. */
export interface PortSpec {
  local: number
  remote: number
}

const DIGITS = /^\d+$/

/**
 * Reads the port words of the command line.
 *
 * - `REMOTE LOCAL`: exactly two bare numbers keep the historical order, remote first;
 * - `LOCAL:REMOTE`, as kubectl users type it, and `:REMOTE` for a port the OS chooses;
 * - a bare `PORT` on its own, or beside colon forms, forwards that port to the same number.
 *
 * Several bare numbers next to other words could mean either order, so they are refused
 * rather than guessed.
 */
export function parsePortSpecs(words: string[]): PortSpec[] {
  if (words.length === 0) {
    throw new UsageError('no port given: add the remote port, e.g. 5432 or 15432:5432')
  }

  const bare = words.filter((word) => DIGITS.test(word))
  if (words.length === 2 && bare.length === 2) {
    return [{local: parsePort(words[1], 'local', true), remote: parsePort(words[0], 'remote')}]
  }

  if (bare.length > 1) {
    throw new UsageError(
      `ports "${words.join(' ')}" are ambiguous: two bare numbers mean REMOTE_PORT LOCAL_PORT; ` +
      'for more pairs write each as LOCAL:REMOTE, e.g. 15432:5432 8080:80',
    )
  }

  const specs = words.map((word) => parsePortWord(word))
  const seen = new Set<number>()
  for (const {local} of specs) {
    if (local !== 0 && seen.has(local)) {
      throw new UsageError(`local port ${local} is given twice: choose one remote port for it`)
    }

    seen.add(local)
  }

  return specs
}

function parsePortWord(word: string): PortSpec {
  const parts = word.split(':')
  if (parts.length === 1) {
    const port = parsePort(word, 'remote')
    return {local: port, remote: port}
  }

  if (parts.length === 2) {
    const local = parts[0] === '' ? 0 : parsePort(parts[0], 'local', true)
    return {local, remote: parsePort(parts[1], 'remote')}
  }

  throw new UsageError(`port "${word}" is not valid: write REMOTE, LOCAL:REMOTE or :REMOTE`)
}

/** A TCP port number; `allowZero` lets a local port be chosen by the operating system. */
export function parsePort(word: string, role: 'local' | 'remote', allowZero = false): number {
  const port = DIGITS.test(word) ? Number(word) : Number.NaN
  const min = allowZero ? 0 : 1
  if (!Number.isSafeInteger(port) || port < min || port > 65_535) {
    const range = allowZero ? '0 (any free port) or 1..65535' : '1..65535'
    throw new UsageError(`${role} port "${word}" is not valid: use a whole number in ${range}`)
  }

  return port
}
