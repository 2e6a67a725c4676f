import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {startOnFreePort} from './free-port.js'

const run = promisify(execFile)

/** An sshd of its own on 127.0.0.1 that lets the current user in with a throwaway key. */
export interface SshServer {
  port: number
  /** The private key the client logs in with. */
  identity: string
  user: string
  stop(): Promise<void>
}

export async function startSshServer(sshd: string, keygen: string): Promise<SshServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pf-sshd-'))
  const hostKey = join(dir, 'host_ed25519')
  const identity = join(dir, 'client_ed25519')
  await run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey])
  await run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', identity])
  writeFileSync(join(dir, 'authorized_keys'), await readPublic(`${identity}.pub`))
  // sshd insists on its privilege-separation folder even when it runs unprivileged.
  mkdirSync('/run/sshd', {recursive: true})

  const server = await startOnFreePort(async (port) => {
    const config = join(dir, 'sshd_config')
    writeFileSync(config, [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      '',
    ].join('\n'))
    const child = spawn(sshd, ['-D', '-e', '-f', config], {stdio: ['ignore', 'ignore', 'pipe']})
    await waitForPort(port, child)
    return {child, port}
  })

  return {
    identity,
    port: server.port,
    async stop() {
      await stopChild(server.child)
      rmSync(dir, {force: true, recursive: true})
    },
    user: userInfo().username,
  }
}

async function readPublic(path: string): Promise<string> {
  const {readFile} = await import('node:fs/promises')
  return readFile(path, 'utf8')
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${stderr}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => {
      setTimeout(resolve, 50)
    })
  }

  throw new Error(`sshd never listened on ${port}: ${stderr}`)
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => {
    child.once('exit', resolve)
  })
  child.kill('SIGTERM')
  await exited
}
