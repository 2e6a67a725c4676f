import {accessSync, constants} from 'node:fs'
import {delimiter, join} from 'node:path'

/** A program a test needs, and the Debian package that brings it. */
export interface ToolNeed {
  name: string
  debianPackage: string
  /** Folders searched before PATH, such as a versioned server folder. */
  dirs?: string[]
}

/** The full path of an executable `name` in `dirs` or on PATH, if there is one. */
export function findTool(name: string, dirs: string[] = []): string | undefined {
  const path = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
  for (const dir of [...dirs, ...path]) {
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // Not in this folder; try the next.
    }
  }

  return undefined
}

/** One sentence naming what is missing and what installs it, or undefined when all is there. */
export function missingTools(needs: ToolNeed[]): string | undefined {
  const missing = needs.filter((need) => findTool(need.name, need.dirs) === undefined)
  if (missing.length === 0) return undefined

  const names = missing.map((need) => need.name).join(', ')
  const packages = [...new Set(missing.map((need) => need.debianPackage))].join(' ')
  return `${names} not installed (apt-get install ${packages})`
}

/**
 * Skips the calling suite when any reason is given, printing them; under CI=true fails
 * instead, so that CI cannot pass by skipping. Call it first in a `before` hook.
 */
export function skipOrFail(context: Mocha.Context, ...reasons: Array<string | undefined>): void {
  const reason = reasons.filter(Boolean).join('; ')
  if (reason === '') return

  const suite = context.test?.parent?.fullTitle() ?? 'these tests'
  if (process.env.CI === 'true') throw new Error(`"${suite}" cannot run under CI=true: ${reason}`)

  console.log(`  skipped "${suite}": ${reason}`)
  context.skip()
}
