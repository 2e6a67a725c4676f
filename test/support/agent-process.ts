/**
 * A test agent in a process of its own, so that tests can kill or stop it:
 * `node --import tsx test/support/agent-process.ts [PORT]`. Prints `listening PORT` once
 * it accepts, and runs until killed.
 */
import {TestAgent} from './test-agent.js'

const agent = await TestAgent.start({port: Number(process.argv[2] ?? 0)})
process.stdout.write(`listening ${agent.port}\n`)
