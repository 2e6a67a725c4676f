import {UsageError} from '../errors/index.js'

/** A `<project>/<service>` pair, both valid names on the control plane. */
export interface Target {
  project: string
  service: string
}

// DNS-subdomain rules, as the control plane applies them to every name.
const NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/
const MAX_NAME = 253

export function parseTarget(word: string): Target {
  const slash = word.indexOf('/')
  if (slash === -1) {
    throw new UsageError(
      `target "${word}" has no "/": write it as <project>/<service>, e.g. shop/db`,
    )
  }

  const project = word.slice(0, slash)
  const service = word.slice(slash + 1)
  checkName('project', project, word)
  checkName('service', service, word)
  return {project, service}
}

function checkName(kind: string, name: string, word: string): void {
  if (name === '') {
    throw new UsageError(`target "${word}" has an empty ${kind}: write it as <project>/<service>`)
  }

  if (name.length > MAX_NAME || !NAME.test(name)) {
    throw new UsageError(
      `${kind} name "${name}" is not valid: use lowercase letters, digits, "-" and ".", ` +
      `starting and ending with a letter or digit, at most ${MAX_NAME} characters`,
    )
  }
}
