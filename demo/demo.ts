/**
 * Shows `caractrl port-forward` doing its job with no cluster: a local control plane, a node
 * agent and an HTTP service stand in for a deployment, and the real command runs in a child
 * process exactly as a user would start it.
 */
import {RunningCli} from '../test/support/cli.js'
import {TestAgent} from '../test/support/test-agent.js'
import {TestControlPlane} from '../test/support/test-control-plane.js'
import {REPORT_LINES, startService, type DemoService} from './service.js'

const say = (line = '') => process.stdout.write(`${line}\n`)

async function main(): Promise<void> {
  const closers: Array<() => Promise<void>> = []
  let cli: RunningCli | undefined
  try {
    say('caractrl port-forward demo: everything below runs on this machine, on 127.0.0.1')
    say()

    const service = await startService()
    closers.push(() => service.close())
    const agent = await TestAgent.start()
    closers.push(() => agent.close())
    const plane = await TestControlPlane.start()
    closers.push(() => plane.close())
    plane.addProject('shop', {node: 'node-a', services: ['web']})
    plane.addNode('node-a', {agentPort: agent.port, ip: '127.0.0.1'})

    say('Started:')
    say(`  control plane  ${plane.url}  (project "shop" is Running on node "node-a")`)
    say(`  node agent     ${agent.address}  (the agent of node-a)`)
    say(`  service        shop/web, an HTTP server listening on port ${service.port}`)
    say()

    say(`$ CARACTRL_SERVER=${plane.url} caractrl port-forward shop/web ${service.port} 0`)
    cli = new RunningCli(['port-forward', 'shop/web', String(service.port), '0'],
      {CARACTRL_SERVER: plane.url})
    echoLines(cli)
    const [port] = await cli.ready()
    say()

    await sendRequests(port)
    say()

    await stopDuringRequest(cli, port)
    const {code, signal} = await cli.exited
    say(`  port-forward exited with code ${code ?? signal}`)
    if (code !== 0) throw new Error(`port-forward exited with ${code ?? signal}, not 0`)

    say()
    say('Done: every response came through the tunnel, and the request that was in flight at')
    say('Ctrl-C finished before port-forward exited.')
  } finally {
    await cli?.kill()
    for (const close of closers.reverse()) await close()
  }
}

/** Shows each line port-forward prints, marked as its own. */
function echoLines(cli: RunningCli): void {
  let partial = ''
  cli.child.stderr!.on('data', (text: string) => {
    const lines = (partial + text).split('\n')
    partial = lines.pop()!
    for (const line of lines) say(`  port-forward> ${line}`)
  })
}

async function sendRequests(port: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`
  say(`Requests through the forwarded port ${base}, with Node's fetch:`)
  const requests: Array<[string, string, string?]> = [
    ['GET', '/'],
    ['GET', '/api/orders'],
    ['POST', '/api/echo', 'hello through the tunnel'],
  ]
  for (const [method, path, body] of requests) {
    const response = await fetch(`${base}${path}`, {body, method})
    const text = (await response.text()).trim()
    say(`  ${method.padEnd(4)} ${path.padEnd(12)} -> ${response.status} ${response.statusText}`)
    say(`       ${text}`)
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}`)
  }
}

/** Sends SIGINT once the slow report has started, then reads the rest of it. */
async function stopDuringRequest(cli: RunningCli, port: number): Promise<void> {
  say('Stopping while a request is still in flight:')
  const response = await fetch(`http://127.0.0.1:${port}/api/report`)
  say(`  GET  /api/report  -> ${response.status} ${response.statusText}, streaming`)
  const lines: string[] = []
  const decoder = new TextDecoder()
  let buffered = ''
  let signalled = false
  for await (const chunk of response.body!) {
    buffered += decoder.decode(chunk, {stream: true})
    const complete = buffered.split('\n')
    buffered = complete.pop()!
    for (const line of complete) {
      lines.push(line)
      say(`       ${line}`)
    }

    if (!signalled) {
      signalled = true
      say('  sending SIGINT to port-forward (what Ctrl-C does)')
      cli.signal('SIGINT')
    }
  }

  say(`  GET  /api/report  finished with all ${lines.length} lines`)
  if (lines.length !== REPORT_LINES) {
    throw new Error(`the report came back with ${lines.length} of ${REPORT_LINES} lines`)
  }
}

try {
  await main()
} catch (error) {
  say(`Demo failed: ${(error as Error).message}`)
  process.exitCode = 1
}
