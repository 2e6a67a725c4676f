import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'

import {runCli} from '../support/cli.js'
import {lockedPackages} from './installed-versions.js'
import {HOST_KINDS, PLUGIN_ROOT, realHost, type RealHost} from './real-host.js'

for (const kind of HOST_KINDS) {
  describe(`plugins install of the packed plugin in a caractrl host on ${kind.label}`, function () {
    // The host is installed from the registry once per run; installing the plugin takes a while.
    this.timeout(300_000)

    let host: RealHost
    let registry: Server
    let registryRequests: string[]
    let dataModules: string
    let pluginDir: string

    before(async function () {
      const built = await realHost(kind)
      if (typeof built === 'string') {
        console.log(`      skipped: ${built}`)
        this.skip()
      }

      host = built as RealHost
      // A registry that has nothing: any package npm would resolve instead of using the
      // packed one shows up here and fails the install.
      registryRequests = []
      registry = createServer((request, response) => {
        registryRequests.push(`${request.method} ${request.url}`)
        response.writeHead(404, {'content-type': 'application/json'}).end('{"error":"Not found"}')
      })
      await new Promise<void>((resolve) => {
        registry.listen(0, '127.0.0.1', resolve)
      })

      const user = host.user('reproducer')
      dataModules = join(user.dataDir, 'node_modules')
      pluginDir = join(dataModules, '@caractrl', 'plugin-port-forward')
      const {port} = registry.address() as AddressInfo
      const env = {
        ...user.env,
        // An empty cache of the user's own, so that nothing comes from earlier installs.
        npm_config_cache: join(user.dataDir, '..', 'npm-cache'),
        npm_config_registry: `http://127.0.0.1:${port}/`,
      }
      const result = await runCli(['plugins', 'install', `file:${host.tarball}`], env, host.bin,
        host.node)
      assert.equal(result.code, 0, `plugins install failed:\n${result.stdout}${result.stderr}`)
    })

    after(async () => {
      registry?.closeAllConnections()
      await new Promise((resolve) => {
        registry?.close(resolve)
      })
    })

    it('installs with nothing asked of the registry: every dependency comes in the package', () => {
      assert.deepEqual(registryRequests, [])
    })

    it('installs exactly the dependency versions that its npm-shrinkwrap.json names', async () => {
      const locked = await lockedPackages(pluginDir)
      assert.ok(locked.some(({key}) => key === 'node_modules/got'), 'the lockfile names no got')
      const differing = locked.filter(({installed, locked}) => installed !== locked)
        .map(({installed, key, locked}) => `${key}: ${installed ?? 'missing'} instead of ${locked}`)
      assert.deepEqual(differing, [])
    })

    it('ships the working copy\'s npm-shrinkwrap.json, and no development tool', async () => {
      const [installed, working] = await Promise.all([join(pluginDir, 'npm-shrinkwrap.json'),
        join(PLUGIN_ROOT, 'npm-shrinkwrap.json')].map((file) => readFile(file, 'utf8')))
      assert.equal(installed, working)
      for (const tool of ['mocha', 'typescript', 'oclif', 'tsx']) {
        for (const dir of [join(pluginDir, 'node_modules'), dataModules]) {
          assert.equal(existsSync(join(dir, tool)), false, `${tool} is installed in ${dir}`)
        }
      }
    })
  })
}
