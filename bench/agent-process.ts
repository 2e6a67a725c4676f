/**
 * The test agent in a process of its own, so that its CPU is not counted as the CLI's.
 * Prints its address as one JSON line and runs until killed.
 */
import {TestAgent} from '../test/support/test-agent.js'

const agent = await TestAgent.start()
console.log(JSON.stringify({address: agent.address}))
