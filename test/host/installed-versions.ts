import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

/** One package the plugin's npm-shrinkwrap.json names for use at run time. */
export interface LockedPackage {
  /** Its key in the lockfile, as `node_modules/a/node_modules/b`. */
  key: string
  locked: string
  /** The version Node.js loads for the package that needs it, where the plugin is installed. */
  installed: string | undefined
}

/**
 * Every run-time package of the installed plugin's own npm-shrinkwrap.json, with the version
 * that Node.js resolves from the package that depends on it, however npm laid the tree out.
 */
export async function lockedPackages(pluginDir: string): Promise<LockedPackage[]> {
  const lock = JSON.parse(await readFile(join(pluginDir, 'npm-shrinkwrap.json'), 'utf8')) as {
    packages: Record<string, {version: string; dev?: boolean}>
  }
  const places = new Map<string, string | undefined>([['', pluginDir]])

  /** Where the package of `key` is found from its parent's folder, as `import` looks it up. */
  function place(key: string): string | undefined {
    if (places.has(key)) return places.get(key)

    const at = key.lastIndexOf('node_modules/')
    const name = key.slice(at + 'node_modules/'.length)
    let dir = place(at === 0 ? '' : key.slice(0, at - 1))
    let found: string | undefined
    while (dir && !found) {
      // Node.js never looks in node_modules/node_modules.
      const candidate = join(dir, 'node_modules', name)
      if (basename(dir) !== 'node_modules' && existsSync(join(candidate, 'package.json'))) {
        found = candidate
      }

      dir = dirname(dir) === dir ? undefined : dirname(dir)
    }

    places.set(key, found)
    return found
  }

  const entries = Object.entries(lock.packages).filter(([key, entry]) => key !== '' && !entry.dev)
  return Promise.all(entries.map(async ([key, entry]) => {
    const dir = place(key)
    const pjson = dir ? JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) : undefined
    return {installed: pjson?.version, key, locked: entry.version}
  }))
}
