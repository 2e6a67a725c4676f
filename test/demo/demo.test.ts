import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('the demo', () => {
  let child: ChildProcess | undefined

  afterEach(() => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })

  it('runs the real command, shows the responses and the drain, and exits 0', async () => {
    const env = {...process.env}
    for (const key of Object.keys(env)) {
      if (key.startsWith('CARACTRL_') || key === 'DEBUG') delete env[key]
    }

    // What `npm run demo` runs once the build (done before the suite) is in place.
    const demo = spawn(process.execPath, ['--import', 'tsx', 'demo/demo.ts'], {cwd: ROOT, env})
    child = demo
    let output = ''
    demo.stdout.setEncoding('utf8').on('data', (text: string) => {
      output += text
    })
    demo.stderr.setEncoding('utf8').on('data', (text: string) => {
      output += text
    })
    const code = await new Promise<number | null>((resolve) => {
      demo.on('exit', (exitCode) => resolve(exitCode))
    })

    assert.equal(code, 0, output)
    assert.match(output, /port-forward> Forwarding from 127\.0\.0\.1:\d+ -> shop\/web:\d+/)
    assert.match(output, /GET {2}\/ +-> 200 OK\n +Hello from shop\/web!/)
    assert.match(output, /shop\/web received 24 bytes: hello through the tunnel/)
    assert.match(output, /port-forward> Stopping: waiting for 1 connection to finish/)
    assert.match(output, /report line 4 of 4/)
    assert.match(output, /port-forward> Stopped\n/)
  })
})
