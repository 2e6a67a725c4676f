import {createRequire} from 'node:module'
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const PLUGIN_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The two plugins of the fixture host that answer hooks. */
export type HookOwner = 'root' | 'other'
export type HookEvent = 'control-plane' | 'resolve-agent'

/** How one fixture handler behaves: answer (after a delay), or fail with a message. */
export interface HandlerSpec {
  answer?: unknown
  delayMs?: number
  fail?: string
}

/** The options one handler was called with, minus oclif's own members. */
export interface HandlerCall {
  owner: HookOwner
  event: HookEvent
  options: Record<string, unknown>
}

/**
 * A host CLI made of files in a temporary folder: its root plugin and a second plugin,
 * `caractrl-plugin-other`, both answer `caractrl:control-plane` and `caractrl:resolve-agent`
 * as each run's environment tells them, and this plugin is one of its core plugins. It runs
 * on the @oclif/core this project installed, so it needs no install of its own.
 */
export class FixtureHost {
  readonly dir: string
  readonly bin: string
  readonly #log: string

  private constructor(dir: string) {
    this.dir = dir
    this.bin = join(dir, 'bin', 'run.js')
    this.#log = join(dir, 'calls.jsonl')
  }

  static async create(): Promise<FixtureHost> {
    const host = new FixtureHost(await mkdtemp(join(tmpdir(), 'caractrl-fixture-host-')))
    await host.#write()
    return host
  }

  /** The environment of one run: handler behaviour and a data folder of the host's own. */
  env(handlers: Partial<Record<`${HookOwner}:${HookEvent}`, HandlerSpec>> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      CARACTRL_CACHE_DIR: join(this.dir, 'cache'),
      CARACTRL_CONFIG_DIR: join(this.dir, 'config'),
      CARACTRL_DATA_DIR: join(this.dir, 'data'),
      FIXTURE_CALL_LOG: this.#log,
    }
    for (const [key, spec] of Object.entries(handlers)) env[variable(key)] = JSON.stringify(spec)
    return env
  }

  /** Every handler call so far, in the order they started. */
  async calls(): Promise<HandlerCall[]> {
    const text = await readFile(this.#log, 'utf8').catch(() => '')
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as HandlerCall)
  }

  async clearCalls(): Promise<void> {
    await rm(this.#log, {force: true})
  }

  async remove(): Promise<void> {
    await rm(this.dir, {force: true, recursive: true})
  }

  async #write(): Promise<void> {
    const {dir} = this
    const other = join(dir, 'node_modules', 'caractrl-plugin-other')
    await Promise.all([mkdir(join(dir, 'bin'), {recursive: true}), mkdir(join(dir, 'hooks')),
      mkdir(join(other, 'hooks'), {recursive: true}),
      mkdir(join(dir, 'node_modules', '@caractrl'), {recursive: true})])

    const hooks = {
      'caractrl:control-plane': './hooks/control-plane.js',
      'caractrl:resolve-agent': './hooks/resolve-agent.js',
    }
    const core = pathToFileURL(createRequire(import.meta.url).resolve('@oclif/core')).href
    await Promise.all([
      writeJson(join(dir, 'package.json'), {
        // oclif loads only the listed plugins that are also dependencies.
        dependencies: {'@caractrl/plugin-port-forward': '*', 'caractrl-plugin-other': '*'},
        name: 'caractrl-fixture-host',
        oclif: {
          bin: 'caractrl', dirname: 'caractrl-fixture-host', hooks,
          plugins: ['@caractrl/plugin-port-forward', 'caractrl-plugin-other'],
        },
        private: true, type: 'module', version: '1.0.0',
      }),
      writeFile(this.bin,
        `import {execute} from '${core}'\n\nawait execute({dir: import.meta.url})\n`),
      writeJson(join(other, 'package.json'), {
        name: 'caractrl-plugin-other', oclif: {hooks}, type: 'module', version: '1.0.0',
      }),
      writeFile(join(dir, 'hooks', 'control-plane.js'), handler('root', 'control-plane')),
      writeFile(join(dir, 'hooks', 'resolve-agent.js'), handler('root', 'resolve-agent')),
      writeFile(join(other, 'hooks', 'control-plane.js'), handler('other', 'control-plane')),
      writeFile(join(other, 'hooks', 'resolve-agent.js'), handler('other', 'resolve-agent')),
      symlink(PLUGIN_ROOT, join(dir, 'node_modules', '@caractrl', 'plugin-port-forward'), 'dir'),
    ])
  }
}

function variable(key: string): string {
  return `FIXTURE_${key.replaceAll(/[:-]/g, '_').toUpperCase()}`
}

/** A handler module; a failure goes through `this.error`, as a host's handler would. */
function handler(owner: HookOwner, event: HookEvent): string {
  return `import {appendFileSync} from 'node:fs'

export default async function (options) {
  const spec = JSON.parse(process.env.${variable(`${owner}:${event}`)} ?? 'null')
  if (!spec) return undefined

  const {config, context, ...rest} = options
  appendFileSync(process.env.FIXTURE_CALL_LOG,
    JSON.stringify({event: '${event}', options: rest, owner: '${owner}'}) + '\\n')
  if (spec.delayMs) await new Promise((resolve) => setTimeout(resolve, spec.delayMs))
  if (spec.fail) this.error(spec.fail)
  return spec.answer
}
`
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`)
}
