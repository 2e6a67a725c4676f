import assert from 'node:assert/strict'
import {execFile, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {promisify} from 'node:util'

import {BIN, RunningCli} from '../support/cli.js'
import {findTool, missingTools, skipOrFail} from '../support/require-tool.js'
import {startSshServer, type SshServer} from '../support/ssh-server.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {randomPayload, sha256} from '../support/transfer.js'

const MiB = 1024 * 1024

/** Echoes exactly `bytes` and then closes, as a service with a fixed-size exchange does. */
function echoThenClose(bytes: number) {
  return (socket: import('node:net').Socket) => {
    let seen = 0
    socket.on('data', (chunk: Buffer) => {
      const take = chunk.subarray(0, bytes - seen)
      seen += take.length
      socket.write(take)
      if (seen >= bytes) socket.end()
    })
  }
}

describe('port-forward --stdio', () => {
  let agent: TestAgent
  let target: Target
  let cli: RunningCli | undefined

  before(async () => {
    agent = await TestAgent.start()
    target = await startTarget(echoThenClose(16 * MiB))
  })

  afterEach(async () => {
    await cli?.kill()
    cli = undefined
  })

  after(async () => {
    await Promise.all([agent.close(), target.close()])
  })

  it('carries 16 MiB each way over stdin and stdout, then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'port-forward', 'shop/db', String(target.port),
      '--stdio', '--node', agent.address], {stdio: ['pipe', 'pipe', 'pipe']})
    const hash = createHash('sha256')
    let received = 0
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      received += chunk.length
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => {
      child.on('close', resolve)
    })
    const payload = randomPayload(16 * MiB)
    child.stdin.end(payload)

    assert.equal(await exited, 0, stderr)
    assert.equal(received, payload.length)
    assert.equal(hash.digest('hex'), sha256(payload))
    assert.doesNotMatch(stderr, /Forwarding from/)
  })

  it('refuses --output json, whose lines would mix with the stream, ' +
    'and says so on stderr', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', '22', '--stdio', '--output', 'json', '--node',
      agent.address])
    const exit = await cli.exited
    assert.equal(exit.code, 2)
    assert.match(cli.stderr, /--stdio .*--output json/)
    assert.equal(cli.stdout, '')
  })

  it('refuses a local port, since it listens on none', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', '1:22', '--stdio', '--node', agent.address])
    assert.equal((await cli.exited).code, 2)
    assert.match(cli.stderr, /--stdio carries one port and listens on none/)
  })

  it('exits 7 when the agent refuses the stream', async () => {
    const closed = await startTarget(echo)
    await closed.close()
    cli = new RunningCli(['port-forward', 'shop/db', String(closed.port), '--stdio', '--node',
      agent.address])
    cli.child.stdin!.end('hello')
    assert.equal((await cli.exited).code, 7)
    assert.match(cli.stderr, /failed: agent refused the tunnel: Bad Gateway/)
  })

  it('exits 0, saying nothing, when the reader of its stdout goes away', async () => {
    const child = spawn(process.execPath, [BIN, 'port-forward', 'shop/db', String(target.port),
      '--stdio', '--node', agent.address], {stdio: ['pipe', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => {
      child.on('close', resolve)
    })
    child.stdin.on('error', () => {})
    child.stdin.write(randomPayload(8 * MiB))

    // As `| head -c 1` does: read the first bytes, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy())
    assert.equal(await exited, 0, stderr)
    assert.doesNotMatch(stderr, /failed/)
  })

  it('refuses more than one port', async () => {
    cli = new RunningCli(['port-forward', 'shop/db', '22', '8080:80', '--stdio',
      '--node', agent.address])
    assert.equal((await cli.exited).code, 2)
    assert.match(cli.stderr, /--stdio carries one port/)
  })
})

describe('port-forward --stdio as ssh\'s ProxyCommand', () => {
  let agent: TestAgent
  let sshd: SshServer

  before(async function () {
    this.timeout(60_000)
    skipOrFail(this, missingTools([
      {debianPackage: 'openssh-server', dirs: ['/usr/sbin'], name: 'sshd'},
      {debianPackage: 'openssh-client', name: 'ssh'},
      {debianPackage: 'openssh-client', name: 'ssh-keygen'},
    ]))
    agent = await TestAgent.start()
    sshd = await startSshServer(findTool('sshd', ['/usr/sbin'])!, findTool('ssh-keygen')!)
  })

  after(async () => {
    await Promise.all([agent?.close(), sshd?.stop()])
  })

  it('reaches a test sshd through the tunnel and runs a command', async () => {
    const proxy = `${process.execPath} ${BIN} port-forward shop/ssh ${sshd.port} --stdio ` +
      `--quiet --node ${agent.address}`
    const {stdout} = await promisify(execFile)('ssh', [
      '-F', '/dev/null', '-i', sshd.identity, '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'LogLevel=ERROR', '-o', `ProxyCommand=${proxy}`,
      `${sshd.user}@shop-ssh`, 'echo', 'through-the-tunnel',
    ], {timeout: 30_000})
    assert.equal(stdout.trim(), 'through-the-tunnel')
  })
})
