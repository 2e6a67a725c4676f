import assert from 'node:assert/strict'

import {makeCertificates, type TestCertificates} from '../support/certificates.js'
import {RunningCli, runCli} from '../support/cli.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'
import {echoThrough, randomPayload, sha256} from '../support/transfer.js'

describe('port-forward over TLS', function () {
  let certs: TestCertificates
  let plane: TestControlPlane
  let agent: TestAgent
  let secureAgent: TestAgent
  let target: Target
  let cli: RunningCli | undefined

  before(async function () {
    const made = await makeCertificates()
    if (typeof made === 'string') {
      console.log(`      skipped: ${made}`)
      this.skip()
    }

    certs = made as TestCertificates
    plane = await TestControlPlane.start(certs.server)
    agent = await TestAgent.start()
    secureAgent = await TestAgent.start({tls: certs.server})
    target = await startTarget(echo)
    plane.token = 'tls-token'
    plane.addProject('shop', {node: 'node-a'})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([plane?.close(), agent?.close(), secureAgent?.close(), target?.close(),
      certs?.remove()])
  })

  const env = () => ({CARACTRL_SERVER: plane.url, CARACTRL_TOKEN: 'tls-token'})

  async function forwardsThrough(cliArgs: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${target.port}`, ...cliArgs],
      {...env(), ...extraEnv})
    const [port] = await cli.ready()
    const payload = randomPayload(64 * 1024)
    assert.equal(await echoThrough(port, payload), sha256(payload))
    return cli
  }

  it('reaches an https control plane whose CA is given with --certificate-authority', async () => {
    const running = await forwardsThrough(['--certificate-authority', certs.caFile])
    assert.doesNotMatch(running.stderr, /Warning/)
  })

  it('reaches an https control plane whose CA is given with CARACTRL_CA_FILE', async () => {
    await forwardsThrough([], {CARACTRL_CA_FILE: certs.caFile})
  })

  it('fails with a certificate message when the control plane\'s CA is not given', async () => {
    const result = await runCli(['port-forward', 'shop/db', `0:${target.port}`], env())
    assert.equal(result.code, 3)
    assert.match(result.stderr,
      new RegExp('^Error: cannot verify the certificate of the control plane at ' +
        'https:\\/\\/127\\.0\\.0\\.1:\\d+\\/ \\(.*certificate.*\\): ' +
        'pass the CA that signed it with --certificate-authority FILE', 'm'))
    assert.equal(result.stderr.trim().split('\n').length, 1)
  })

  it('skips the control plane\'s certificate check ' +
    'with --insecure-skip-tls-verify, warning', async () => {
    const running = await forwardsThrough(['--insecure-skip-tls-verify'])
    assert.match(running.stderr,
      /^Warning: certificate checks are off \(--insecure-skip-tls-verify\)/m)
  })

  it('tunnels through a wss agent whose CA is given', async () => {
    await forwardsThrough(['--node', `wss://127.0.0.1:${secureAgent.port}`,
      '--certificate-authority', certs.caFile])
    assert.ok(secureAgent.requests.length > 0)
  })

  it('fails before listening when a wss agent\'s certificate cannot be verified', async () => {
    const result = await runCli(['port-forward', 'shop/db', `0:${target.port}`,
      '--node', `wss://127.0.0.1:${secureAgent.port}`], env())
    assert.equal(result.code, 4)
    assert.match(result.stderr,
      new RegExp('^Error: cannot verify the certificate of the agent at ' +
        'wss:\\/\\/127\\.0\\.0\\.1:\\d+\\/? \\(.*certificate.*\\): pass the CA', 'm'))
    assert.doesNotMatch(result.stderr, /Forwarding from/)
  })

  it('tunnels through a wss agent with --insecure-skip-tls-verify, warning', async () => {
    const running = await forwardsThrough(['--node', `wss://127.0.0.1:${secureAgent.port}`,
      '--insecure-skip-tls-verify'])
    assert.match(running.stderr, /^Warning: certificate checks are off/m)
  })
})
