import assert from 'node:assert/strict'

import type {ForwardEvent} from '../../src/events/forward-event.js'
import {AgentRoutes, type PlacedAgent} from '../../src/resolver/agent-routes.js'
import type {DialFailure} from '../../src/tunnel/dial-failure.js'

const A: PlacedAgent = {host: '10.0.0.1', node: 'node-a', port: 9090, scheme: 'ws:'}
const B: PlacedAgent = {host: '10.0.0.2', node: 'node-b', port: 9090, scheme: 'ws:'}

function routes(relocate: () => Promise<PlacedAgent>) {
  const events: ForwardEvent[] = []
  const table = new AgentRoutes({
    agent: A, emit: (event) => events.push(event), relocate,
    target: {project: 'shop', service: 'db'}, trust: {rejectUnauthorized: true},
  })
  return {events, table}
}

function failure(table: AgentRoutes, extra: Partial<DialFailure>): DialFailure {
  return {reason: 'failed', timedOut: false, url: table.endpointFor(5432).url, ...extra}
}

describe('agent routes of a project found on the control plane', () => {
  it('dials the agent\'s forward path and sends no headers', () => {
    const {table} = routes(async () => A)
    const endpoint = table.endpointFor(5432)
    assert.equal(endpoint.url, 'ws://10.0.0.1:9090/api/v1/forward/shop/db/5432')
    assert.equal(endpoint.headers, undefined)
  })

  it('looks the project up once for many connections failing together, ' +
    'and tells the move once', async () => {
    let lookups = 0
    const {events, table} = routes(async () => {
      lookups++
      return B
    })
    const failed = failure(table, {code: 'ECONNREFUSED'})
    const next = await Promise.all([1, 2, 3].map(() => table.redial(5432, failed)))
    assert.equal(lookups, 1)
    for (const endpoint of next) {
      assert.equal(endpoint?.url, 'ws://10.0.0.2:9090/api/v1/forward/shop/db/5432')
    }
    assert.equal(events.filter((event) => event.type === 'info').length, 1)

    assert.equal((await table.redial(5432, failed))?.url, next[0]!.url,
      'a late failure at A goes to B')
    assert.equal(lookups, 1)
  })

  it('looks again after a timed-out handshake or a 404, but not after other refusals', async () => {
    let lookups = 0
    const {table} = routes(async () => {
      lookups++
      return A
    })
    assert.equal(await table.redial(5432, failure(table, {status: 503})), undefined)
    assert.equal(await table.redial(5432, failure(table, {status: 502})), undefined)
    assert.equal(lookups, 0)
    assert.equal(await table.redial(5432, failure(table, {timedOut: true})), undefined)
    assert.equal(lookups, 1, 'still on node-a: the connection fails as it did')
  })

  it('looks the project up at most once per interval', async () => {
    let lookups = 0
    const {table} = routes(async () => {
      lookups++
      return A
    })
    await table.redial(5432, failure(table, {status: 404}))
    await table.redial(5432, failure(table, {status: 404}))
    assert.equal(lookups, 1)
  })

  it('warns once, and fails the connection, when the control plane cannot be asked', async () => {
    const {events, table} = routes(async () => {
      throw new Error('control plane is down')
    })
    assert.equal(await table.redial(5432, failure(table, {code: 'EHOSTUNREACH'})), undefined)
    assert.deepEqual(events, [{
      message: 'cannot check whether project "shop" moved: control plane is down',
      type: 'warning',
    }])
  })

  it('never looks up an agent that was not found on the control plane', async () => {
    const table = new AgentRoutes({
      agent: A, emit() {}, target: {project: 'shop', service: 'db'},
      trust: {rejectUnauthorized: true},
    })
    assert.equal(await table.redial(5432, failure(table, {code: 'ECONNREFUSED'})), undefined)
  })
})
