import assert from 'node:assert/strict'
import {createServer} from 'node:net'

import {RunningCli} from '../support/cli.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {TestControlPlane} from '../support/test-control-plane.js'
import {dial, echoThrough, randomPayload, sha256} from '../support/transfer.js'

interface JsonEvent {
  type: string
  [key: string]: unknown
}

function jsonEvents(stdout: string): JsonEvent[] {
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as JsonEvent)
}

async function hasIpv6Loopback(): Promise<boolean> {
  const server = createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(false))
    server.listen(0, '::1', () => server.close(() => resolve(true)))
  })
}

/** A port nothing listens on: bound, read, closed. */
async function unusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as {port: number}
  await new Promise((resolve) => {
    server.close(resolve)
  })
  return port
}

describe('the command surface', () => {
  let plane: TestControlPlane
  let agent: TestAgent
  let targets: Target[]
  let cli: RunningCli | undefined

  before(async () => {
    plane = await TestControlPlane.start()
    agent = await TestAgent.start()
    targets = await Promise.all([startTarget(echo), startTarget(echo), startTarget(echo)])
    plane.addProject('shop', {node: 'node-a', services: ['db', 'web']})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([plane.close(), agent.close(), ...targets.map((target) => target.close())])
  })

  it('forwards three port specs over their own listeners after one lookup', async () => {
    plane.calls.length = 0
    const [a, b, c] = targets.map((target) => target.port)
    cli = new RunningCli(['port-forward', 'shop/db', `0:${a}`, `0:${b}`, `:${c}`,
      '--address', '127.0.0.1'], {CARACTRL_SERVER: plane.url})
    const ports = await cli.ready(3)
    assert.equal(new Set(ports).size, 3)
    for (const port of ports) {
      const payload = randomPayload(64 * 1024)
      assert.equal(await echoThrough(port, payload), sha256(payload))
    }

    assert.equal(plane.callsTo('/api/v1/projects/shop').length, 1)
    assert.equal(plane.callsTo('/api/v1/nodes/node-a').length, 1)
  })

  it('announces the chosen port in the JSON ready event before it is needed', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', `:${targets[0].port}`, '--output', 'json',
      '--address', '127.0.0.1', '--node', agent.address])
    await cli.waitFor(/"type":"ready"/, 15_000, 'stdout')
    const [ready] = jsonEvents(cli.stdout).filter((event) => event.type === 'ready')
    assert.equal(ready.remotePort, targets[0].port)
    assert.equal(ready.target, 'shop/db')
    const payload = randomPayload(1024)
    assert.equal(await echoThrough(ready.port as number, payload), sha256(payload))
  })

  it('listens on both loopbacks by default, so localhost reaches the service', async function () {
    if (!(await hasIpv6Loopback())) {
      console.log('      skipped: this machine has no IPv6 loopback')
      this.skip()
    }

    cli = new RunningCli(['port-forward', 'shop/db', `0:${targets[0].port}`,
      '--node', agent.address])
    const ports = await cli.ready(2)
    assert.equal(ports[0], ports[1], 'both addresses get the same port')
    assert.match(cli.stderr, /Forwarding from \[::1\]:/)
    const socket = await dial(ports[1], '::1')
    socket.destroy()
  })

  it('listens only where --address says', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${targets[0].port}`,
      '--address', '127.0.0.1', '--node', agent.address])
    const [port] = await cli.ready()
    await assert.rejects(dial(port, '::1'))
  })

  it('warns that a non-loopback address exposes the service', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${targets[0].port}`, '--address', '0.0.0.0',
      '--node', agent.address])
    await cli.ready()
    assert.match(cli.stderr, /Warning: listening on 0\.0\.0\.0: shop\/db becomes reachable/)
  })

  it('writes only JSON lines, one open and one close per connection, errors included', async () => {
    const dead = await unusedPort()
    cli = new RunningCli(['port-forward', 'shop/db', `0:${targets[0].port}`, `0:${dead}`,
      '--output', 'json', '--address', '127.0.0.1', '--node', agent.address])
    const [good, bad] = await cli.ready(2)
    const payloads = Array.from({length: 19}, () => randomPayload(4096))
    await Promise.all(payloads.map((payload) => echoThrough(good, payload)))
    const refused = await dial(bad)
    await new Promise((resolve) => {
      refused.on('error', resolve).on('close', resolve)
    })
    cli.signal('SIGINT')
    assert.equal((await cli.exited).code, 0)

    const events = jsonEvents(cli.stdout)
    const opened = events.filter((event) => event.type === 'connection-open')
      .map((event) => event.id)
    const closed = events.filter((event) => event.type === 'connection-close')
    assert.equal(opened.length, 20)
    assert.deepEqual(closed.map((event) => event.id).sort(), [...opened].sort())
    const failed = closed.filter((event) => event.error)
    assert.equal(failed.length, 1)
    assert.equal(failed[0].remotePort, dead)
    assert.match(String(failed[0].error), /Bad Gateway/)
    assert.equal(events.at(-1)?.type, 'exit')
  })

  it('prints nothing for 100 good connections when quiet, but still the failure', async () => {
    const dead = await unusedPort()
    cli = new RunningCli(['port-forward', 'shop/db', `0:${targets[0].port}`, `0:${dead}`,
      '--quiet', '--address', '127.0.0.1', '--output', 'json', '--node', agent.address])
    await cli.waitFor(/"type":"ready"[^\n]*\n[^]*"type":"ready"/, 15_000, 'stdout')
    const [good, bad] = jsonEvents(cli.stdout)
      .filter((event) => event.type === 'ready')
      .map((event) => event.port as number)
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(Array.from({length: 25}, () => echoThrough(good, Buffer.from('ping'))))
    }

    assert.equal(cli.stderr, '')
    const refused = await dial(bad)
    refused.on('error', () => {})
    await cli.waitFor(/failed: agent refused the tunnel/)
    assert.equal(cli.stderr.trim().split('\n').length, 1)
  })

  it('prints a line per connection opened and closed when verbose', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${targets[0].port}`, '--verbose',
      '--address', '127.0.0.1', '--node', agent.address])
    const [port] = await cli.ready()
    await echoThrough(port, Buffer.from('hello'))
    await cli.waitFor(/Connection #1 from 127\.0\.0\.1:\d+ -> shop\/db/)
    await cli.waitFor(/Connection #1 -> shop\/db:\d+ closed: 5 bytes sent/)
  })

  /** Echoes a few bytes through `port`, then resets the connection instead of closing it. */
  async function echoThenReset(port: number): Promise<void> {
    const socket = await dial(port)
    const echoed = new Promise((resolve) => {
      socket.once('data', resolve)
    })
    socket.write('hello')
    await echoed
    await new Promise((resolve) => {
      socket.once('close', resolve)
      socket.resetAndDestroy()
    })
  }

  it('does not report a connection the local client reset as failed: that is its own doing',
    async () => {
      cli = new RunningCli(['port-forward', 'shop/db', `0:${targets[0].port}`, '--output', 'json',
        '--address', '127.0.0.1', '--node', agent.address])
      const [port] = await cli.ready()
      await echoThenReset(port)
      await cli.waitFor(/"type":"connection-close"/, 10_000, 'stdout')
      const [closed] = jsonEvents(cli.stdout).filter((event) => event.type === 'connection-close')
      assert.equal(closed.clientReset, true)
      assert.equal(closed.error, undefined)
      assert.equal(closed.bytesDown, 5)
      assert.doesNotMatch(cli.stderr, /Connection #1/)
    })

  it('shows a reset by the local client when verbose', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', `0:${targets[0].port}`, '--verbose',
      '--address', '127.0.0.1', '--node', agent.address])
    const [port] = await cli.ready()
    await echoThenReset(port)
    await cli.waitFor(/Connection #1 -> shop\/db:\d+ reset by the local client: 5 bytes sent/)
    assert.doesNotMatch(cli.stderr, /failed/)
  })
})
