import {execFile} from 'node:child_process'
import {rmSync} from 'node:fs'
import {cp, mkdir, mkdtemp, readdir, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {nodeOfMajor} from '../support/node-release.js'

const run = promisify(execFile)

/** The working copy of the plugin, as `plugins link` takes it. */
export const PLUGIN_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A host stack users run: its pinned oclif packages and the Node.js major it runs on. */
export interface HostKind {
  label: string
  /** Undefined: the Node.js running the tests. */
  nodeMajor?: number
  dependencies: Record<string, string>
}

/** The hosts the plugin is tested in; the README's compatibility table names the same. */
export const HOST_KINDS: HostKind[] = [
  {
    dependencies: {
      '@oclif/core': '4.14.0', '@oclif/plugin-help': '6.3.0', '@oclif/plugin-plugins': '5.5.2',
    },
    label: '@oclif/core 4 and @oclif/plugin-plugins 5',
  },
  {
    // plugin-help 7 needs core ^5.1.8; plugin-plugins 7 bundles npm 11.
    dependencies: {
      '@oclif/core': '5.1.9', '@oclif/plugin-help': '7.0.5', '@oclif/plugin-plugins': '7.0.0',
    },
    label: '@oclif/core 5 and @oclif/plugin-plugins 7 on Node.js 24',
    nodeMajor: 24,
  },
]

/** A `caractrl` host CLI installed from the registry, and the plugin packed for it. */
export interface RealHost {
  dir: string
  bin: string
  /** The `node` the host runs on. */
  node: string
  tarball: string
  /** Folders of one user of the host: data (installed plugins), config (the login), cache. */
  user(name: string): {env: NodeJS.ProcessEnv; configDir: string; dataDir: string}
}

const building = new Map<HostKind, Promise<RealHost | string>>()
const roots: string[] = []

// Test files share the hosts of a run, so they are removed when the run ends, not per file.
process.once('exit', () => {
  for (const root of roots) rmSync(root, {force: true, recursive: true})
})

/**
 * Builds the host of `kind` once per test run. Resolves with the reason it cannot be built
 * here (no registry, say); under CI=true that reason is a failure instead.
 */
export async function realHost(kind: HostKind): Promise<RealHost | string> {
  if (!building.has(kind)) building.set(kind, build(kind))
  const result = await building.get(kind)!
  if (typeof result === 'string' && process.env.CI === 'true') {
    throw new Error(`the host CLI on ${kind.label} is required under CI=true: ${result}`)
  }

  return result
}

async function build(kind: HostKind): Promise<RealHost | string> {
  const node = kind.nodeMajor === undefined
    ? {node: process.execPath}
    : await nodeOfMajor(kind.nodeMajor)
  if (typeof node === 'string') return node

  const root = await mkdtemp(join(tmpdir(), 'caractrl-real-host-'))
  roots.push(root)
  const dir = join(root, 'host')
  // The host's user has this node first on PATH, for npm and anything npm starts.
  const path = `${dirname(node.node)}${delimiter}${process.env.PATH ?? ''}`
  try {
    await writeHost(dir, kind)
    await npm(['install', '--no-audit', '--no-fund', '--loglevel=error'], dir, path)
  } catch (error) {
    return `the host CLI could not be installed from the registry: ${firstLine(error)}`
  }

  const tarball = await pack(join(root, 'pack'))
  return {
    bin: join(dir, 'bin', 'run.js'),
    dir,
    node: node.node,
    tarball,
    user(name) {
      const home = join(root, 'users', name)
      const env = {
        CARACTRL_CACHE_DIR: join(home, 'cache'),
        CARACTRL_CONFIG_DIR: join(home, 'config'),
        CARACTRL_DATA_DIR: join(home, 'data'),
        // Under CI=true oclif colours its output even into a pipe; the tests read plain text.
        NO_COLOR: '1',
        OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
        PATH: path,
        XDG_CACHE_HOME: join(home, 'xdg-cache'),
        XDG_CONFIG_HOME: join(home, 'xdg-config'),
        XDG_DATA_HOME: join(home, 'xdg-data'),
      }
      return {configDir: env.CARACTRL_CONFIG_DIR, dataDir: env.CARACTRL_DATA_DIR, env}
    },
  }
}

/**
 * A host CLI as a vendor would ship one: plugin management, help, and its own answer to
 * `caractrl:control-plane`, read from the file that its login command would write.
 */
async function writeHost(dir: string, kind: HostKind): Promise<void> {
  await mkdir(join(dir, 'bin'), {recursive: true})
  await mkdir(join(dir, 'hooks'))
  const pjson = {
    dependencies: kind.dependencies,
    name: 'caractrl',
    oclif: {
      bin: 'caractrl',
      dirname: 'caractrl',
      hooks: {'caractrl:control-plane': './hooks/control-plane.js'},
      plugins: ['@oclif/plugin-help', '@oclif/plugin-plugins'],
      topicSeparator: ' ',
    },
    private: true,
    type: 'module',
    version: '1.0.0',
  }
  await Promise.all([
    writeFile(join(dir, 'package.json'), `${JSON.stringify(pjson, null, 2)}\n`),
    writeFile(join(dir, 'bin', 'run.js'),
      '#!/usr/bin/env node\nimport {execute} from \'@oclif/core\'\n\n' +
      'await execute({dir: import.meta.url})\n'),
    writeFile(join(dir, 'hooks', 'control-plane.js'), `import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

export default async function (options) {
  const file = join(options.config.configDir, 'login.json')
  const login = await readFile(file, 'utf8').then(JSON.parse, () => undefined)
  if (!login) this.error('not logged in: run caractrl login')
  return {token: login.token, url: login.server}
}
`),
  ])
}

/**
 * Packs the plugin as `npm pack` would, from a copy of the built tree: the manifest is
 * generated in the copy, so the working tree never holds one, and dist/ is not rebuilt
 * under the tests that use it.
 */
async function pack(into: string): Promise<string> {
  const stage = join(into, 'stage')
  await mkdir(stage, {recursive: true})
  await Promise.all(['package.json', 'npm-shrinkwrap.json', 'bin', 'dist'].map((name) =>
    cp(join(PLUGIN_ROOT, name), join(stage, name), {recursive: true})))
  await symlink(join(PLUGIN_ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir')
  await run(process.execPath,
    [join(PLUGIN_ROOT, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'],
    {cwd: stage, env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})
  return packStage(stage, into)
}

/** Runs `npm pack` in a folder laid out as the package and returns the tarball's path. */
export async function packStage(stage: string, into: string): Promise<string> {
  await npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', into], stage)
  const [tarball] = (await readdir(into)).filter((name) => name.endsWith('.tgz'))
  return join(into, tarball)
}

async function npm(args: string[], cwd: string, path = process.env.PATH): Promise<void> {
  await run('npm', args, {
    cwd,
    env: {...process.env, PATH: path, npm_config_update_notifier: 'false'},
    maxBuffer: 16 * 1024 * 1024,
    timeout: 300_000,
  })
}

function firstLine(error: unknown): string {
  const {message, stderr} = error as {message: string; stderr?: string}
  return (stderr?.trim() || message).split('\n')[0]
}
