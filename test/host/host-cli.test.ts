import assert from 'node:assert/strict'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {RunningCli, runCli} from '../support/cli.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'
import {echoThrough, randomPayload, sha256} from '../support/transfer.js'
import {HOST_KINDS, PLUGIN_ROOT, realHost, type RealHost} from './real-host.js'

const TOKEN = 'real-host-login-4d1e'

for (const kind of HOST_KINDS) {
  describe(`port-forward inside a real caractrl host CLI on ${kind.label}`, function () {
    // Installing the host and the plugin from the registry takes a while, once per run.
    this.timeout(300_000)

    let host: RealHost
    let plane: TestControlPlane
    let agent: TestAgent
    let target: Target
    let cli: RunningCli | undefined

    before(async function () {
      const built = await realHost(kind)
      if (typeof built === 'string') {
        console.log(`      skipped: ${built}`)
        this.skip()
      }

      host = built as RealHost
      plane = await TestControlPlane.start()
      agent = await TestAgent.start()
      target = await startTarget(echo)
      plane.token = TOKEN
      plane.addProject('shop', {node: 'node-a'})
      plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
    })

    afterEach(async () => {
      await cli?.kill()
      cli = undefined
    })

    after(async () => {
      await Promise.all([plane?.close(), agent?.close(), target?.close()])
    })

    /** A user of the host, logged in to the test control plane. */
    async function loggedIn(name: string): Promise<NodeJS.ProcessEnv> {
      const {configDir, env} = host.user(name)
      await mkdir(configDir, {recursive: true})
      const login = {server: plane.url, token: TOKEN}
      await writeFile(join(configDir, 'login.json'), JSON.stringify(login))
      return env
    }

    async function caractrl(args: string[], env: NodeJS.ProcessEnv) {
      const result = await runCli(args, env, host.bin, host.node)
      assert.equal(result.code, 0, `caractrl ${args.join(' ')} failed:\n${result.stderr}`)
      return result
    }

    async function forwardsWithTheHostLogin(env: NodeJS.ProcessEnv): Promise<void> {
      const help = await caractrl(['port-forward', '--help'], env)
      assert.match(help.stdout,
        /^USAGE\n {2}\$ caractrl port-forward PROJECT\/SERVICE REMOTE_PORT/m)
      assert.match(help.stdout, /--running-timeout=DURATION/)

      const callsBefore = plane.calls.length
      const args = ['port-forward', 'shop/db', `0:${target.port}`]
      cli = new RunningCli(args, env, host.bin, host.node)
      const [port] = await cli.ready()
      const payload = randomPayload(256 * 1024)
      assert.equal(await echoThrough(port, payload), sha256(payload))

      const calls = plane.calls.slice(callsBefore)
      assert.ok(calls.length >= 2)
      for (const call of calls) assert.equal(call.headers.authorization, `Bearer ${TOKEN}`)
      assert.equal(agent.requests.at(-1)!.headers.authorization, undefined)
    }

    it('installs the packed plugin with plugins install file:, and forwards with the host\'s login',
      async () => {
        const env = await loggedIn('installer')
        await caractrl(['plugins', 'install', `file:${host.tarball}`], env)
        const plugins = await caractrl(['plugins'], env)
        assert.match(plugins.stdout, /@caractrl\/plugin-port-forward 0\.1\.0/)
        await forwardsWithTheHostLogin(env)
      })

    it('links the working copy with plugins link, and forwards with the host\'s login',
      async () => {
        const env = await loggedIn('linker')
        // --no-install: linking must not reinstall the working copy's dependencies.
        await caractrl(['plugins', 'link', PLUGIN_ROOT, '--no-install'], env)
        const plugins = await caractrl(['plugins'], env)
        assert.match(plugins.stdout, /@caractrl\/plugin-port-forward 0\.1\.0 \(link\)/)
        await forwardsWithTheHostLogin(env)
      })

    it('stops with the host hook\'s message when the user is not logged in', async () => {
      const {env} = host.user('installer')
      const {configDir} = host.user('logged-out')
      const result = await runCli(['port-forward', 'shop/db', '5432'],
        {...env, CARACTRL_CONFIG_DIR: configDir}, host.bin, host.node)
      assert.equal(result.code, 3)
      assert.match(result.stderr, new RegExp('^Error: not logged in: run caractrl login ' +
        '\\(from the caractrl:control-plane hook of caractrl\\)$', 'm'))
    })
  })
}
