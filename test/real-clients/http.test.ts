import assert from 'node:assert/strict'
import {createWriteStream, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'

import {type ClientLoop, redisSideTraffic} from '../support/client-loop.js'
import {CurlDownload, curlMissing, curlPath} from '../support/curl.js'
import {failedConnections, ForwardStack, type Forward} from '../support/forward-stack.js'
import {ByteServer, pseudoRandomBytes, pseudoRandomSha256} from '../support/http-server.js'
import {RedisServer, redisMissing, redisTool} from '../support/redis-server.js'
import {skipOrFail} from '../support/require-tool.js'
import {assertSucceeded, runTool} from '../support/run-tool.js'

const MiB = 1024 * 1024

describe('curl through port-forward', function () {
  this.timeout(120_000)

  let http: ByteServer
  let redis: RedisServer
  let stack: ForwardStack
  let web: Forward
  let cache: Forward
  let side: ClientLoop
  let dir: string

  before(async function () {
    skipOrFail(this, curlMissing(), redisMissing())

    dir = mkdtempSync(join(tmpdir(), 'caractrl-http-'))
    // One after the other, so that a failed start leaves nothing running that `after` misses.
    http = await ByteServer.start()
    redis = await RedisServer.start()
    stack = await ForwardStack.start()
    ;[web, cache] = await Promise.all([
      stack.forward('web', http.port), stack.forward('cache', redis.port),
    ])

    side = redisSideTraffic(redisTool('redis-cli'), cache)
  })

  after(async () => {
    await side?.stop()
    await stack?.close()
    await Promise.all([http?.close(), redis?.stop()])
    if (dir) rmSync(dir, {force: true, recursive: true})
  })

  it('downloads 256 MiB intact', async () => {
    const mark = side.rounds
    const size = 256 * MiB
    const expected = pseudoRandomSha256(size, 'download')

    const download = new CurlDownload(`http://127.0.0.1:${web.port}/bytes/${size}?seed=download`)
    const result = await download.done

    assertSucceeded(result, 'curl download through the tunnel')
    assert.equal(result.bytes, size)
    assert.equal(result.sha256, await expected)
    await side.assertHealthySince(mark)
  })

  it('uploads 64 MiB intact', async () => {
    const mark = side.rounds
    const size = 64 * MiB
    const file = join(dir, 'upload.bin')
    await pipeline(pseudoRandomBytes(size, 'upload'), createWriteStream(file))

    // --upload-file streams from the file instead of reading it into memory first.
    const result = await runTool(curlPath(), [
      '--silent', '--show-error', '--fail', '--upload-file', file,
      `http://127.0.0.1:${web.port}/upload`,
    ])

    assertSucceeded(result, 'curl upload through the tunnel')
    const upload = JSON.parse(result.stdout.toString('utf8')) as {bytes: number; sha256: string}
    assert.equal(upload.bytes, size)
    assert.equal(upload.sha256, await pseudoRandomSha256(size, 'upload'))
    await side.assertHealthySince(mark)
  })

  it('leaves a concurrent download intact when another curl is cancelled halfway', async () => {
    const mark = side.rounds
    const size = 128 * MiB
    const url = (seed: string) => `http://127.0.0.1:${web.port}/bytes/${size}?seed=${seed}`
    const expected = pseudoRandomSha256(size, 'survivor')

    // The survivor is held mid-transfer, its tunnel full, until the other one is gone.
    const survivor = new CurlDownload(url('survivor'))
    await survivor.received(8 * MiB)
    survivor.pause()

    const cancelled = new CurlDownload(url('cancelled'))
    await cancelled.received(size / 2)
    cancelled.child.kill('SIGINT')
    const stopped = await cancelled.done
    assert.equal(stopped.signal, 'SIGINT')
    assert.ok(stopped.bytes < size, `the cancelled curl got all ${stopped.bytes} bytes`)

    survivor.resume()
    const result = await survivor.done
    assertSucceeded(result, 'the concurrent curl download')
    assert.equal(result.bytes, size)
    assert.equal(result.sha256, await expected)
    await side.assertHealthySince(mark)
  })

  it('reports no failed connection, not even the cancelled one, which curl reset itself', () => {
    assert.deepEqual(failedConnections(web), [])
    assert.deepEqual(failedConnections(cache), [])
    assert.ok(side.rounds > 5, `the second forward made ${side.rounds} rounds`)
  })
})
