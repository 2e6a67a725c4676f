import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {RunningCli} from '../support/cli.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {sendProblem, TestControlPlane} from '../support/test-control-plane.js'
import {dial, echoThrough, randomPayload, sha256} from '../support/transfer.js'

const HOST = fileURLToPath(new URL('../fixtures/host-with-hooks.js', import.meta.url))

const sleep = (ms: number) => new Promise((resolve) => {
  setTimeout(resolve, ms)
})

describe('a long-running command inside its host', () => {
  let agent: TestAgent
  let target: Target
  let cli: RunningCli | undefined
  let scratch: string

  before(async () => {
    agent = await TestAgent.start()
    target = await startTarget(echo)
    scratch = mkdtempSync(join(tmpdir(), 'pf-lifecycle-'))
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([agent.close(), target.close()])
    rmSync(scratch, {force: true, recursive: true})
  })

  const forward = (...extra: string[]) => ['port-forward', 'shop/db', `0:${target.port}`,
    '--address', '127.0.0.1', '--node', agent.address, ...extra]

  for (const hook of ['postrun-record', 'postrun-exit']) {
    it(`keeps the host's postrun hook (${hook}) from running before the stop signal`, async () => {
      const log = join(scratch, `${hook}.log`)
      const hooks = JSON.stringify({postrun: `./test/fixtures/hooks/${hook}.js`})
      cli = new RunningCli(forward(), {HOST_HOOKS: hooks, POSTRUN_LOG: log}, HOST)
      const [port] = await cli.ready()
      await sleep(500)
      const payload = randomPayload(256 * 1024)
      assert.equal(await echoThrough(port, payload), sha256(payload))
      assert.equal(existsSync(log), false, 'postrun ran while the forward was up')

      const stoppedAt = Date.now()
      cli.signal('SIGINT')
      const exit = await cli.exited
      assert.equal(exit.code, 0)
      const ranAt = Number(readFileSync(log, 'utf8').trim().split(' ')[1])
      assert.ok(ranAt >= stoppedAt, 'postrun ran after the signal')
    })
  }

  it('treats two SIGINTs 10 ms apart as one request and drains', async () => {
    cli = new RunningCli(forward())
    const [port] = await cli.ready()
    const open = await dial(port)
    open.write('x')
    await cli.waitFor(/./, 1000).catch(() => {})
    cli.signal('SIGINT')
    await sleep(10)
    cli.signal('SIGINT')
    await cli.waitFor(/Stopping: waiting for 1 connection/)
    await sleep(1500)
    assert.equal(cli.child.exitCode, null, 'still draining')
    open.end()
    open.destroy()
    assert.equal((await cli.exited).code, 0)
  })

  it('does not let clients that closed after their exchange hold up the drain', async () => {
    cli = new RunningCli(forward())
    const [port] = await cli.ready()
    // The echo service never closes by itself, and the protocol cannot tell it the client did.
    await Promise.all(Array.from({length: 5}, () => echoThrough(port, randomPayload(1024))))
    const stoppedAt = Date.now()
    cli.signal('SIGINT')
    assert.equal((await cli.exited).code, 0)
    const waited = Date.now() - stoppedAt
    assert.ok(waited < 8000, `the drain waited ${waited} ms for closed clients`)
  })

  it('cuts open connections at a second SIGINT 1.5 s later and exits 6', async () => {
    cli = new RunningCli(forward())
    const [port] = await cli.ready()
    const open = await dial(port)
    open.on('error', () => {})
    await echoThrough(port, Buffer.from('warm'))
    cli.signal('SIGINT')
    await cli.waitFor(/Stopping: waiting for/)
    await sleep(1500)
    cli.signal('SIGINT')
    const exit = await cli.exited
    assert.equal(exit.code, 6)
    assert.match(cli.stderr, /closed by a second stop signal/)
  })

  it('cuts what is left at --drain-timeout and exits 6', async () => {
    cli = new RunningCli(forward('--drain-timeout', '1s'))
    const [port] = await cli.ready()
    const open = await dial(port)
    open.on('error', () => {})
    await sleep(200)
    cli.signal('SIGTERM')
    assert.equal((await cli.exited).code, 6)
    assert.match(cli.stderr, /drain timeout/)
  })

  it('keeps forwarding when the stderr reader goes away', async () => {
    cli = new RunningCli(forward('--verbose'))
    const [port] = await cli.ready()
    cli.child.stderr!.destroy()
    for (let round = 0; round < 20; round++) {
      const payload = randomPayload(1024)
      assert.equal(await echoThrough(port, payload), sha256(payload))
    }

    cli.signal('SIGINT')
    assert.equal((await cli.exited).code, 0)
  })

  it('keeps forwarding when the stdout reader of --output json goes away', async () => {
    cli = new RunningCli(forward('--output', 'json'))
    await cli.waitFor(/"type":"ready"/, 15_000, 'stdout')
    const port = Number(/"port":(\d+)/.exec(cli.stdout)![1])
    cli.child.stdout!.destroy()
    for (let round = 0; round < 20; round++) {
      const payload = randomPayload(1024)
      assert.equal(await echoThrough(port, payload), sha256(payload))
    }

    cli.signal('SIGINT')
    assert.equal((await cli.exited).code, 0)
  })

  it('delivers every JSON line to a reader that starts late, up to the exit line', async () => {
    cli = new RunningCli(forward('--output', 'json'))
    await cli.waitFor(/"type":"ready"/, 15_000, 'stdout')
    const port = Number(/"port":(\d+)/.exec(cli.stdout)![1])
    const connections = 1500
    const closes = () => cli!.stdout.split('"type":"connection-close"').length - 1

    // Thousands of events while nobody reads: the pipe fills long before they are written.
    cli.child.stdout!.pause()
    for (let batch = 0; batch < connections / 50; batch++) {
      await Promise.all(Array.from({length: 50}, async () => {
        const socket = await dial(port)
        socket.on('error', () => {})
        socket.resetAndDestroy()
      }))
    }

    await sleep(500)
    cli.child.stdout!.resume()
    for (let waited = 0; closes() < connections && waited < 60_000; waited += 100) await sleep(100)

    // And the last lines, written while the reader is away again, still arrive after exit.
    cli.child.stdout!.pause()
    cli.signal('SIGINT')
    await sleep(1000)
    cli.child.stdout!.resume()
    assert.equal((await cli.exited).code, 0)
    assert.equal(closes(), connections)
    const events = cli.stdout.trim().split('\n').map((line) => JSON.parse(line))
    assert.deepEqual(events.slice(-3).map((event) => event.type), ['draining', 'stopped', 'exit'])
  })

  it('refuses to bind beside a program that holds the port on all addresses', async () => {
    const holder: Server = createServer()
    await new Promise<void>((resolve) => {
      holder.listen(0, '0.0.0.0', resolve)
    })
    const {port} = holder.address() as {port: number}
    try {
      cli = new RunningCli(['port-forward', 'shop/db', `${port}:${target.port}`,
        '--node', agent.address])
      const exit = await cli.exited
      assert.equal(exit.code, 5)
      assert.match(cli.stderr,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`))
      assert.doesNotMatch(cli.stderr, /Forwarding from/)
    } finally {
      holder.close()
    }
  })
})

describe('exit statuses', () => {
  it('exits 3 when the control plane cannot be reached', async () => {
    const dead = createServer()
    await new Promise<void>((resolve) => {
      dead.listen(0, '127.0.0.1', resolve)
    })
    const {port} = dead.address() as {port: number}
    dead.close()
    const cli = new RunningCli(['port-forward', 'shop/db', '5432'],
      {CARACTRL_SERVER: `http://127.0.0.1:${port}`})
    assert.equal((await cli.exited).code, 3)
    assert.match(cli.stderr,
      /^Error: cannot reach the control plane at http:\/\/127\.0\.0\.1:\d+\/: /m)
  })

  it('exits 4 when the project is not Running', async () => {
    const plane = await TestControlPlane.start()
    plane.addProject('shop', {phase: 'Pending'})
    try {
      const cli = new RunningCli(['port-forward', 'shop/db', '5432', '--running-timeout', '0'],
        {CARACTRL_SERVER: plane.url})
      assert.equal((await cli.exited).code, 4)
      assert.match(cli.stderr, /project "shop" is Pending, not Running: .*--node/)
    } finally {
      await plane.close()
    }
  })

  it('exits 0 at once when stopped while the control plane is still being asked', async () => {
    const plane = await TestControlPlane.start()
    // A control plane that never answers.
    plane.override = () => true
    try {
      const cli = new RunningCli(['port-forward', 'shop/db', '5432'], {CARACTRL_SERVER: plane.url})
      while (plane.calls.length === 0) await sleep(20)
      cli.signal('SIGINT')
      assert.equal((await cli.exited).code, 0)
      assert.match(cli.stderr, /^Stopped$/m)
    } finally {
      await plane.close()
    }
  })

  it('escapes control characters that a server put in its answer', async () => {
    const plane = await TestControlPlane.start()
    plane.override = (_request, response) => {
      sendProblem(response, 404, 'Not Found', 'gone\u001B[2J\u001B[31m\nsecond line\r\n')
      return true
    }

    try {
      const cli = new RunningCli(['port-forward', 'shop/db', '5432'], {CARACTRL_SERVER: plane.url})
      assert.equal((await cli.exited).code, 4)
      assert.equal(cli.stderr.trim().split('\n').length, 1)
      assert.doesNotMatch(cli.stderr, /\u001B/)
      assert.match(cli.stderr, /gone\\x1b\[2J\\x1b\[31m\\nsecond line\\r\\n/)
    } finally {
      await plane.close()
    }
  })

  it('shows its help with -h', async () => {
    const cli = new RunningCli(['port-forward', '-h'])
    assert.equal((await cli.exited).code, 0)
    assert.match(cli.stdout, /Forward local ports to a port of a service/)
  })

  it('exits 1 on an unexpected failure, with one line that says to rerun with DEBUG', async () => {
    const agent = await TestAgent.start()
    try {
      const broken = fileURLToPath(new URL('../fixtures/break-signals.js', import.meta.url))
      const cli = new RunningCli(['port-forward', 'shop/db', '5432', '--node', agent.address],
        {NODE_OPTIONS: `--import=${broken}`})
      assert.equal((await cli.exited).code, 1)
      assert.match(cli.stderr,
        new RegExp('^Error: unexpected failure: signals are broken in this process; ' +
          'rerun with DEBUG=caractrl:\\* .*report it$', 'm'))
      assert.doesNotMatch(cli.stderr, /\n\s+at /)
    } finally {
      await agent.close()
    }
  })

  it('needs --allow-non-loopback to listen beyond loopback with --output json', async () => {
    const refused = new RunningCli(['port-forward', 'shop/db', '5432', '--address', '0.0.0.0',
      '--output', 'json', '--node', '127.0.0.1:9'])
    assert.equal((await refused.exited).code, 2)
    assert.match(refused.stderr,
      /--address 0\.0\.0\.0 can be reached from other machines: add --allow-non-loopback/)

    const agent = await TestAgent.start()
    const allowed = new RunningCli(['port-forward', 'shop/db', '0:5432', '--address', '0.0.0.0',
      '--output', 'json', '--allow-non-loopback', '--node', agent.address])
    try {
      await allowed.waitFor(/"type":"ready"/, 15_000, 'stdout')
      assert.match(allowed.stdout, /"message":"listening on 0\.0\.0\.0: [^"]*","type":"warning"/)
    } finally {
      await allowed.kill()
      await agent.close()
    }
  })

  it('exits 2 on a usage error', async () => {
    const cli = new RunningCli(['port-forward', 'shop/db', '1', '2', '3'])
    assert.equal((await cli.exited).code, 2)
    assert.equal(cli.stderr.trim().split('\n').length, 1)
  })
})
