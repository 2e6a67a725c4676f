import {execFileSync} from 'node:child_process'
import {chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import createDebug from 'debug'

import {startOnFreePort} from './free-port.js'
import {findTool, missingTools} from './require-tool.js'
import {assertSucceeded, runTool} from './run-tool.js'

const debug = createDebug('caractrl:port-forward:test:postgres')

/** The superuser the cluster is created with; it needs no password on 127.0.0.1. */
export const PG_USER = 'postgres'

const SERVER_TOOLS = ['initdb', 'pg_ctl', 'postgres']

/** Debian ships pgbench with the server, the other clients in a package of their own. */
const CLIENT_TOOLS = [
  {debianPackage: 'postgresql', name: 'pgbench'},
  {debianPackage: 'postgresql-client', name: 'psql'},
  {debianPackage: 'postgresql-client', name: 'pg_dump'},
]

/** Debian keeps each major version's programs in a folder of its own; the newest wins. */
function versionDirs(): string[] {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return []

  return readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
    .map((name) => join(root, name, 'bin'))
}

/** Why a PostgreSQL server and its clients cannot be run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  const dirs = versionDirs()
  const needs = [
    ...SERVER_TOOLS.map((name) => ({debianPackage: 'postgresql', dirs, name})),
    ...CLIENT_TOOLS.map((need) => ({...need, dirs})),
  ]
  const missing = missingTools(needs)
  if (missing) return missing

  if (!asRoot()) return undefined

  // The server refuses to run as root, so it needs its own user.
  if (findTool('runuser', ['/usr/sbin', '/sbin']) === undefined) {
    return 'runuser not installed (apt-get install util-linux)'
  }

  if (postgresIds() === undefined) return `no "${PG_USER}" system user (apt-get install postgresql)`

  return undefined
}

/**
 * A throwaway PostgreSQL cluster on 127.0.0.1: its data in a temporary folder, its own port,
 * no Unix socket, and durability turned off since the data dies with the test.
 */
export class PostgresServer {
  readonly port: number
  readonly dir: string
  #bin: string

  private constructor(bin: string, dir: string, port: number) {
    this.#bin = bin
    this.dir = dir
    this.port = port
  }

  static async start(): Promise<PostgresServer> {
    const bin = versionDirs()
      .find((dir) => SERVER_TOOLS.every((name) => existsSync(join(dir, name))))
    if (!bin) throw new Error(postgresMissing() ?? 'no PostgreSQL server found')

    const dir = mkdtempSync(join(tmpdir(), 'caractrl-pg-'))
    const ids = postgresIds()
    if (asRoot() && ids) chownSync(dir, ids.uid, ids.gid)

    const data = join(dir, 'data')
    try {
      await asServerUser(join(bin, 'initdb'), [
        '--pgdata', data, '--username', PG_USER, '--auth', 'trust', '--encoding', 'UTF8',
        '--locale', 'C', '--no-sync',
      ], 'initdb')
      const server = await startOnFreePort(async (port) => {
        const options = [
          `-p ${port}`, '-c listen_addresses=127.0.0.1', "-c unix_socket_directories=''",
          '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off',
        ].join(' ')
        await asServerUser(join(bin, 'pg_ctl'), [
          '--pgdata', data, '--log', join(dir, 'server.log'), '--options', options, '--wait',
          '--timeout', '60', 'start',
        ], 'pg_ctl start')
        return new PostgresServer(bin, dir, port)
      })
      debug('started in %s on port %d', dir, server.port)
      return server
    } catch (error) {
      const logFile = join(dir, 'server.log')
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''
      rmSync(dir, {force: true, recursive: true})
      throw new Error(`${(error as Error).message}\n${log.slice(-2000)}`)
    }
  }

  /** The path of a client program of the same version as the server. */
  tool(name: string): string {
    return join(this.#bin, name)
  }

  /** Connection options for the clients, at `port` (the server's own by default). */
  connection(database: string, port = this.port): string[] {
    return ['--host', '127.0.0.1', '--port', String(port), '--username', PG_USER, database]
  }

  /** Runs a statement directly against the server, failing on error. */
  async sql(database: string, statement: string): Promise<string> {
    const result = await runTool(this.tool('psql'), [
      '--no-psqlrc', '--quiet', '--tuples-only', '--no-align', '--set', 'ON_ERROR_STOP=1',
      '--command', statement, ...this.connection(database),
    ])
    assertSucceeded(result, `psql -c ${JSON.stringify(statement.slice(0, 60))}`)
    return result.stdout.toString('utf8')
  }

  async stop(): Promise<void> {
    try {
      await asServerUser(join(this.#bin, 'pg_ctl'), [
        '--pgdata', join(this.dir, 'data'), '--mode', 'immediate', '--wait', 'stop',
      ], 'pg_ctl stop')
    } finally {
      rmSync(this.dir, {force: true, maxRetries: 3, recursive: true})
    }
  }
}

function asRoot(): boolean {
  return process.getuid?.() === 0
}

function postgresIds(): {uid: number; gid: number} | undefined {
  const id = findTool('id', ['/usr/bin', '/bin']) ?? 'id'
  try {
    const uid = Number(execFileSync(id, ['-u', PG_USER], {encoding: 'utf8'}).trim())
    const gid = Number(execFileSync(id, ['-g', PG_USER], {encoding: 'utf8'}).trim())
    return {gid, uid}
  } catch {
    return undefined
  }
}

/** Runs a server program as the `postgres` user when we are root, as ourselves otherwise. */
async function asServerUser(path: string, args: string[], what: string): Promise<void> {
  const [command, argv] = asRoot() ?
    [findTool('runuser', ['/usr/sbin', '/sbin'])!, ['-u', PG_USER, '--', path, ...args]] :
    [path, args]
  const result = await runTool(command, argv, {timeoutMs: 90_000})
  assertSucceeded(result, what)
}
