import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {promisify} from 'node:util'

import {runCli} from '../support/cli.js'
import {HOST_KINDS, realHost, type RealHost} from './real-host.js'

/**
 * A module hook, preloaded with --import, that writes the URL of every module loaded through
 * the ESM loader to the file named by CARACTRL_TEST_LOAD_LOG: the plugin and got are ESM, so
 * loading any of their files shows there.
 */
const TRACER = {
  'hooks.mjs': `import {appendFileSync} from 'node:fs'

let log
export function initialize(data) {
  log = data.log
}

export async function load(url, context, nextLoad) {
  appendFileSync(log, url + '\\n')
  return nextLoad(url, context)
}
`,
  'register.mjs': `import {register} from 'node:module'

register('./hooks.mjs', import.meta.url, {data: {log: process.env.CARACTRL_TEST_LOAD_LOG}})
`,
}

const run = promisify(execFile)

for (const kind of HOST_KINDS) {
  describe(`a caractrl host on ${kind.label}, with the plugin installed`, function () {
    // The host is installed from the registry once per run; installing the plugin takes a while.
    this.timeout(300_000)

    let host: RealHost
    let env: NodeJS.ProcessEnv
    let dataModules: string
    let pluginDir: string
    let tracer: string

    before(async function () {
      const built = await realHost(kind)
      if (typeof built === 'string') {
        console.log(`      skipped: ${built}`)
        this.skip()
      }

      host = built as RealHost
      const user = host.user('footprint')
      env = user.env
      dataModules = join(user.dataDir, 'node_modules')
      pluginDir = join(dataModules, '@caractrl', 'plugin-port-forward')
      tracer = await mkdtemp(join(tmpdir(), 'caractrl-load-trace-'))
      await Promise.all(Object.entries(TRACER).map(([name, text]) =>
        writeFile(join(tracer, name), text)))
      await caractrl(['plugins', 'install', `file:${host.tarball}`])
    })

    after(async () => {
      if (tracer) await rm(tracer, {force: true, recursive: true})
    })

    async function caractrl(args: string[], extra: NodeJS.ProcessEnv = {}) {
      const result = await runCli(args, {...env, ...extra}, host.bin, host.node)
      assert.equal(result.code, 0, `caractrl ${args.join(' ')} failed:\n${result.stderr}`)
      return result
    }

    /**
     * The files that a run of `args` loaded from where plugins are installed (the plugin and
     * its dependencies), relative to that folder.
     */
    async function pluginModulesLoadedBy(args: string[], expectedCode = 0): Promise<string[]> {
      const log = join(tracer, `${args.join('-').replaceAll('/', '_')}.log`)
      const register = pathToFileURL(join(tracer, 'register.mjs')).href
      const traced = {...env, CARACTRL_TEST_LOAD_LOG: log, NODE_OPTIONS: `--import=${register}`}
      const result = await runCli(args, traced, host.bin, host.node)
      assert.equal(result.code, expectedCode, `caractrl ${args.join(' ')}:\n${result.stderr}`)

      const loaded = (await readFile(log, 'utf8')).split('\n').filter(Boolean)
      assert.ok(loaded.includes(pathToFileURL(host.bin).href), 'the load tracer saw nothing')
      const installed = pathToFileURL(dataModules).href + '/'
      return loaded.filter((url) => url.startsWith(installed))
        .map((url) => url.slice(installed.length))
    }

    it('declares no hooks, so no other command runs any of its code', async () => {
      const pjson = JSON.parse(await readFile(join(pluginDir, 'package.json'), 'utf8'))
      assert.deepEqual(Object.keys(pjson.oclif.hooks ?? {}), [])
    })

    it('leaves caractrl --version working and loads none of its modules for it', async () => {
      const {stdout} = await caractrl(['--version'])
      const version = new RegExp(`^caractrl/1\\.0\\.0 \\S+ node-v${await nodeVersion()}$`, 'm')
      assert.match(stdout, version)
      assert.deepEqual(await pluginModulesLoadedBy(['--version']), [])
    })

    it('is listed by caractrl plugins, which loads none of its modules either', async () => {
      const {stdout} = await caractrl(['plugins'])
      assert.match(stdout, /@caractrl\/plugin-port-forward 0\.1\.0/)
      assert.deepEqual(await pluginModulesLoadedBy(['plugins']), [])
    })

    it('loads its command module only when port-forward itself runs', async () => {
      // A usage error stops the command before it reaches the network.
      const loaded = await pluginModulesLoadedBy(['port-forward', 'shop/db'], 2)
      const command = '@caractrl/plugin-port-forward/dist/commands/port-forward.js'
      assert.ok(loaded.includes(command), loaded.join('\n'))
      // got is imported only once the control plane is asked.
      assert.ok(!loaded.some((url) => /(^|\/)got\//.test(url)), loaded.join('\n'))
    })

    it('is removed by caractrl plugins uninstall, command and files', async () => {
      await caractrl(['plugins', 'uninstall', '@caractrl/plugin-port-forward'])
      const {stdout} = await caractrl(['plugins'])
      assert.doesNotMatch(stdout, /plugin-port-forward/)
      assert.equal(existsSync(pluginDir), false, `${pluginDir} is still there`)

      const run = await runCli(['port-forward', '--help'], env, host.bin, host.node)
      assert.notEqual(run.code, 0)
      assert.match(run.stderr, /command port-forward not found/i)
    })

    async function nodeVersion(): Promise<string> {
      const {stdout} = await run(host.node, ['-p', 'process.versions.node'])
      return stdout.trim().replaceAll('.', '\\.')
    }
  })
}
