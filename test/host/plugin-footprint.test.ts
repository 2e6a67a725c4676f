import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {promisify} from 'node:util'

import {runCli} from '../support/cli.js'
import {LoadTracer} from '../support/load-tracer.js'
import {HOST_KINDS, realHost, type RealHost} from './real-host.js'

const run = promisify(execFile)

for (const kind of HOST_KINDS) {
  describe(`a caractrl host on ${kind.label}, with the plugin installed`, function () {
    // The host is installed from the registry once per run; installing the plugin takes a while.
    this.timeout(300_000)

    let host: RealHost
    let env: NodeJS.ProcessEnv
    let dataModules: string
    let pluginDir: string
    let tracer: LoadTracer

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
      tracer = await LoadTracer.create()
      await caractrl(['plugins', 'install', `file:${host.tarball}`])
    })

    after(async () => {
      await tracer?.remove()
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
      const log = join(tracer.dir, `${args.join('-').replaceAll('/', '_')}.log`)
      const traced = {...env, ...tracer.env(log)}
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
