import assert from 'node:assert/strict'

import {ClientLoop} from '../support/client-loop.js'
import {failedConnections, ForwardStack, type Forward} from '../support/forward-stack.js'
import {PG_USER, PostgresServer, postgresMissing} from '../support/postgres-server.js'
import {RedisServer, redisMissing, redisTool} from '../support/redis-server.js'
import {skipOrFail} from '../support/require-tool.js'
import {assertSucceeded, runTool} from '../support/run-tool.js'
import {randomPayload, sha256} from '../support/transfer.js'

const MiB = 1024 * 1024
const REQUESTS = 20_000

describe('Redis clients through port-forward', function () {
  this.timeout(120_000)

  let redis: RedisServer
  let pg: PostgresServer
  let stack: ForwardStack
  let cache: Forward
  let db: Forward
  let side: ClientLoop

  /** redis-cli against the server directly, for what the test checks rather than exercises. */
  const direct = async (...args: string[]): Promise<string> => {
    const result = await runTool(redisTool('redis-cli'), ['-p', String(redis.port), ...args])
    assertSucceeded(result, `redis-cli ${args.join(' ')}`)
    return result.stdout.toString('utf8')
  }

  before(async function () {
    skipOrFail(this, redisMissing(), postgresMissing())

    // One after the other, so that a failed start leaves nothing running that `after` misses.
    redis = await RedisServer.start()
    pg = await PostgresServer.start()
    stack = await ForwardStack.start()
    ;[cache, db] = await Promise.all([
      stack.forward('cache', redis.port), stack.forward('db', pg.port),
    ])

    // Traffic on a second forward from another process for as long as these tests run.
    side = new ClientLoop(pg.tool('psql'), [
      '--no-psqlrc', '--tuples-only', '--no-align', '--command', 'SELECT 6 * 7',
      '--host', '127.0.0.1', '--port', String(db.port), '--username', PG_USER, 'postgres',
    ], /^42\n$/)
    side.start()
  })

  after(async () => {
    await side?.stop()
    await stack?.close()
    await Promise.all([redis?.stop(), pg?.stop()])
  })

  it('runs redis-benchmark with 50 pipelining clients and every request answered', async () => {
    const mark = side.rounds
    await direct('CONFIG', 'RESETSTAT')

    const run = await runTool(redisTool('redis-benchmark'), [
      '-h', '127.0.0.1', '-p', String(cache.port), '-c', '50', '-P', '16', '-n', String(REQUESTS),
      '-d', '64', '-r', '10000', '-t', 'set,get,incr,lpush,lrange_100', '--csv',
    ], {timeoutMs: 90_000})
    assertSucceeded(run, 'redis-benchmark through the tunnel')
    assert.doesNotMatch(run.stdout.toString('utf8') + run.stderr, /error/i)

    // The server's own count shows that no request was lost or refused on the way.
    const stats = await direct('INFO', 'commandstats')
    for (const command of ['set', 'get', 'incr']) {
      assert.match(stats, new RegExp(`cmdstat_${command}:calls=${REQUESTS},`), stats)
    }

    assert.doesNotMatch(stats, /failed_calls=[1-9]|rejected_calls=[1-9]/, stats)
    assert.equal((await direct('INFO', 'errorstats')).trim(), '# Errorstats')
    await side.assertHealthySince(mark)
  })

  it('sets and gets a 64 MiB value with redis-cli, intact', async () => {
    const mark = side.rounds
    const value = randomPayload(64 * MiB)
    const cli = ['-h', '127.0.0.1', '-p', String(cache.port)]

    const set = await runTool(redisTool('redis-cli'), [...cli, '-x', 'SET', 'big'], {input: value})
    assertSucceeded(set, 'redis-cli SET through the tunnel')
    assert.equal(set.stdout.toString('utf8'), 'OK\n')
    assert.equal(await direct('STRLEN', 'big'), `${value.length}\n`)

    const get = await runTool(redisTool('redis-cli'), [...cli, 'GET', 'big'])
    assertSucceeded(get, 'redis-cli GET through the tunnel')
    // Printing to a pipe, redis-cli writes the raw value and a newline.
    assert.equal(get.stdout.length, value.length + 1)
    assert.equal(sha256(get.stdout.subarray(0, value.length)), sha256(value))
    await side.assertHealthySince(mark)
  })

  it('reports no failed connection on either forward', () => {
    assert.deepEqual(failedConnections(cache), [])
    assert.deepEqual(failedConnections(db), [])
    assert.ok(side.rounds > 5, `the second forward made ${side.rounds} rounds`)
  })
})
