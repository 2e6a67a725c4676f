import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {promisify} from 'node:util'

import {RunningCli} from '../support/cli.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'
import {randomPayload, sha256} from '../support/transfer.js'

const MiB = 1024 * 1024
const run = promisify(execFile)

/** Why curl cannot be used here, or undefined when it can. */
async function curlMissing(): Promise<string | undefined> {
  try {
    await run('curl', ['--version'])
    return undefined
  } catch (error) {
    return `curl is not installed (${(error as Error).message.split('\n')[0]}); ` +
      'apt-get install curl'
  }
}

/** Fetches a URL with curl and resolves with the body, failing on any HTTP error. */
async function curl(url: string): Promise<Buffer> {
  const {stdout} = await run(
    'curl',
    ['--silent', '--show-error', '--fail', '--max-time', '60', url],
    {
      encoding: 'buffer',
      maxBuffer: 64 * MiB,
    },
  )
  return stdout
}

describe('curl fetches an HTTP resource through port-forward', function () {
  const resource = randomPayload(6 * MiB)
  let http: Server
  let httpPort: number
  let plane: TestControlPlane
  let agent: TestAgent
  let cli: RunningCli | undefined

  before(async function () {
    const missing = await curlMissing()
    if (missing && process.env.CI === 'true') {
      throw new Error(`curl is required under CI=true: ${missing}`)
    }

    if (missing) {
      console.log(`      skipped: ${missing}`)
      this.skip()
    }

    http = createServer((request, response) => {
      if (request.url !== '/blob') {
        response.statusCode = 404
        response.end()
        return
      }

      response.setHeader('content-type', 'application/octet-stream')
      response.end(resource)
    })
    await new Promise<void>((resolve) => {
      http.listen(0, '127.0.0.1', () => resolve())
    })
    httpPort = (http.address() as AddressInfo).port

    plane = await TestControlPlane.start()
    agent = await TestAgent.start()
    plane.addProject('shop', {node: 'node-a', services: ['web']})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    http?.closeAllConnections()
    await new Promise<void>((resolve) => {
      if (http) http.close(() => resolve())
      else resolve()
    })
    await Promise.all([plane?.close(), agent?.close()])
  })

  it('gets the resource intact with the agent resolved through the control plane', async () => {
    cli = new RunningCli(['port-forward', 'shop/web', String(httpPort), '0'],
      {CARACTRL_SERVER: plane.url})
    const [port] = await cli.ready()
    const body = await curl(`http://127.0.0.1:${port}/blob`)
    assert.equal(body.length, resource.length)
    assert.equal(sha256(body), sha256(resource))
  })

  it('gets the resource intact with the agent given by --node', async () => {
    cli = new RunningCli(['port-forward', 'shop/web', `0:${httpPort}`, '--node', agent.address])
    const [port] = await cli.ready()
    const body = await curl(`http://127.0.0.1:${port}/blob`)
    assert.equal(body.length, resource.length)
    assert.equal(sha256(body), sha256(resource))
  })
})
