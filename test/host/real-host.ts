import {execFile} from 'node:child_process'
import {cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const run = promisify(execFile)

/** The working copy of the plugin, as `plugins link` takes it. */
export const PLUGIN_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The host's pinned stack: the newest majors of these need Node 22. */
const HOST_DEPENDENCIES = {
  '@oclif/core': '4.14.0',
  '@oclif/plugin-help': '6.3.0',
  '@oclif/plugin-plugins': '5.5.2',
}

/** A `caractrl` host CLI installed from the registry, and the plugin packed for it. */
export interface RealHost {
  dir: string
  bin: string
  tarball: string
  /** Folders of one user of the host: data (installed plugins), config (the login), cache. */
  user(name: string): {env: NodeJS.ProcessEnv; configDir: string}
  remove(): Promise<void>
}

let building: Promise<RealHost | string> | undefined

/**
 * Builds the host once per test run. Resolves with the reason it cannot be built here (no
 * registry, say); under CI=true that reason is a failure instead.
 */
export async function realHost(): Promise<RealHost | string> {
  building ??= build()
  const result = await building
  if (typeof result === 'string' && process.env.CI === 'true') {
    throw new Error(`the host CLI is required under CI=true: ${result}`)
  }

  return result
}

async function build(): Promise<RealHost | string> {
  const root = await mkdtemp(join(tmpdir(), 'caractrl-real-host-'))
  const dir = join(root, 'host')
  try {
    await writeHost(dir)
    await npm(['install', '--no-audit', '--no-fund', '--loglevel=error'], dir)
  } catch (error) {
    await rm(root, {force: true, recursive: true})
    return `the host CLI could not be installed from the registry: ${firstLine(error)}`
  }

  const tarball = await pack(join(root, 'pack'))
  return {
    bin: join(dir, 'bin', 'run.js'),
    dir,
    remove: () => rm(root, {force: true, recursive: true}),
    tarball,
    user(name) {
      const home = join(root, 'users', name)
      const env = {
        CARACTRL_CACHE_DIR: join(home, 'cache'),
        CARACTRL_CONFIG_DIR: join(home, 'config'),
        CARACTRL_DATA_DIR: join(home, 'data'),
        OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
        XDG_CACHE_HOME: join(home, 'xdg-cache'),
        XDG_CONFIG_HOME: join(home, 'xdg-config'),
        XDG_DATA_HOME: join(home, 'xdg-data'),
      }
      return {configDir: env.CARACTRL_CONFIG_DIR, env}
    },
  }
}

/**
 * A host CLI as a vendor would ship one: plugin management, help, and its own answer to
 * `caractrl:control-plane`, read from the file that its login command would write.
 */
async function writeHost(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), {recursive: true})
  await mkdir(join(dir, 'hooks'))
  const pjson = {
    dependencies: HOST_DEPENDENCIES,
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
      '#!/usr/bin/env node\nimport {execute} from \'@oclif/core\'\n\nawait execute({dir: import.meta.url})\n'),
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
  await Promise.all(['package.json', 'bin', 'dist'].map((name) =>
    cp(join(PLUGIN_ROOT, name), join(stage, name), {recursive: true})))
  await symlink(join(PLUGIN_ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir')
  await run(process.execPath, [join(PLUGIN_ROOT, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'],
    {cwd: stage, env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})
  await npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', into], stage)
  const [tarball] = (await readdir(into)).filter((name) => name.endsWith('.tgz'))
  return join(into, tarball)
}

async function npm(args: string[], cwd: string): Promise<void> {
  await run('npm', args, {cwd, env: {...process.env, npm_config_update_notifier: 'false'},
    maxBuffer: 16 * 1024 * 1024, timeout: 300_000})
}

function firstLine(error: unknown): string {
  const {message, stderr} = error as {message: string; stderr?: string}
  return (stderr?.trim() || message).split('\n')[0]
}
