import assert from 'node:assert/strict'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {RunningCli} from '../support/cli.js'
import {echo, startTarget, type Target} from '../support/targets.js'
import {TestAgent} from '../support/test-agent.js'
import {echoThrough, sha256} from '../support/transfer.js'

const READY_MARK = 'ready line written'

/**
 * Preloaded with --import: a module hook logs the URL of every module the ESM loader loads,
 * and a wrapper around stderr adds a mark to the same log when the confirmation line is
 * written. A load is logged before the module runs, so the order in the log is the order
 * in which the process did things.
 */
const TRACER = {
  'hooks.mjs': `import {appendFileSync} from 'node:fs'

let log
export function initialize(data) {
  log = data.log
}

export async function load(url, context, nextLoad) {
  appendFileSync(log, url + '\\n')
  return nextLoad(url, context)
}
`,
  'register.mjs': `import {appendFileSync} from 'node:fs'
import {register} from 'node:module'

const log = process.env.CARACTRL_TEST_LOAD_LOG
register('./hooks.mjs', import.meta.url, {data: {log}})
const write = process.stderr.write.bind(process.stderr)
process.stderr.write = (chunk, ...rest) => {
  if (String(chunk).includes('Forwarding from')) appendFileSync(log, '${READY_MARK}\\n')
  return write(chunk, ...rest)
}
`,
}

describe('start-up', () => {
  let agent: TestAgent
  let target: Target
  let tracer: string
  let cli: RunningCli | undefined

  before(async () => {
    agent = await TestAgent.start()
    target = await startTarget(echo)
    tracer = await mkdtemp(join(tmpdir(), 'caractrl-start-trace-'))
    await Promise.all(Object.entries(TRACER).map(([name, text]) =>
      writeFile(join(tracer, name), text)))
  })

  after(async () => {
    await cli?.kill()
    await Promise.all([agent.close(), target.close(), rm(tracer, {force: true, recursive: true})])
  })

  it('confirms before it loads the WebSocket library, then loads it at once', async () => {
    const log = join(tracer, 'load.log')
    const register = pathToFileURL(join(tracer, 'register.mjs')).href
    cli = new RunningCli(
      ['port-forward', 'shop/db', `0:${target.port}`, '--address', '127.0.0.1',
        '--node', agent.address],
      {CARACTRL_TEST_LOAD_LOG: log, NODE_OPTIONS: `--import=${register}`},
    )
    const [port] = await cli.ready()

    // Not even waiting for a connection: the library is loaded as soon as the line is out.
    const isWs = (line: string) => /\/node_modules\/ws\//.test(line)
    const deadline = Date.now() + 10_000
    let lines: string[] = []
    while (!lines.some(isWs) && Date.now() < deadline) {
      await new Promise((resolve) => {
        setTimeout(resolve, 50)
      })
      lines = (await readFile(log, 'utf8')).split('\n')
    }

    const ready = lines.indexOf(READY_MARK)
    assert.ok(ready > 0, `no mark for the confirmation line in:\n${lines.join('\n')}`)
    const firstWs = lines.findIndex(isWs)
    assert.ok(firstWs > ready, `ws was loaded before the confirmation line:\n${lines.join('\n')}`)

    const payload = Buffer.from('first connection')
    assert.equal(await echoThrough(port, payload), sha256(payload))
  })
})
