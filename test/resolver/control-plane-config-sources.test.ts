import assert from 'node:assert/strict'

import {ExitCode, isForwardError} from '../../src/errors/index.js'
import type {HookAnswer} from '../../src/hooks/collect-answers.js'
import {controlPlaneConfig, DEFAULT_SERVER} from '../../src/resolver/control-plane-config.js'

const HOST: HookAnswer<unknown> = {
  answer: {token: 'tok-host', url: 'https://cp.example:8443'}, isRoot: true, plugin: 'caractrl',
}
const ENV = {CARACTRL_SERVER: 'http://env.example:8080', CARACTRL_TOKEN: 'tok-env'}

function refused(make: () => unknown, exit: number, message: RegExp): void {
  assert.throws(make, (error: unknown) => {
    assert.ok(isForwardError(error))
    assert.equal(error.exitCode, exit)
    assert.match(error.message, message)
    return true
  })
}

describe('controlPlaneConfig', () => {
  it('takes URL and token from the host\'s hook answer over the environment', () => {
    const {config, warnings} = controlPlaneConfig({answers: [HOST], env: ENV, flags: {}})
    assert.equal(config.url.href, 'https://cp.example:8443/')
    assert.equal(config.token, 'tok-host')
    assert.equal(config.source, 'the caractrl:control-plane hook of caractrl')
    assert.deepEqual(warnings, [])
  })

  it('falls back to CARACTRL_SERVER and CARACTRL_TOKEN without a hook answer', () => {
    const {config} = controlPlaneConfig({answers: [], env: ENV, flags: {}})
    assert.equal(config.url.href, 'http://env.example:8080/')
    assert.equal(config.token, 'tok-env')
    assert.equal(config.source, 'CARACTRL_SERVER')
  })

  it('uses the environment token when the hook answer has none', () => {
    const answer = {...HOST, answer: {url: 'https://cp.example'}}
    assert.equal(controlPlaneConfig({answers: [answer], env: ENV, flags: {}}).config.token,
      'tok-env')
  })

  it('lets --server override both the hook and CARACTRL_SERVER', () => {
    const {config} = controlPlaneConfig({
      answers: [HOST], env: ENV, flags: {server: 'http://flag.example'},
    })
    assert.equal(config.url.href, 'http://flag.example/')
    assert.equal(config.source, '--server')
  })

  it('falls back to the default URL and no token with nothing set', () => {
    const {config} = controlPlaneConfig({answers: [], env: {}, flags: {}})
    assert.equal(config.url.href, new URL(DEFAULT_SERVER).href)
    assert.equal(config.token, undefined)
    assert.equal(controlPlaneConfig({answers: [], env: {CARACTRL_TOKEN: ''}, flags: {}})
      .config.token, undefined)
  })

  it('warns when two plugins answer differently, and uses the first', () => {
    const other = {answer: {url: 'https://other.example'}, isRoot: false, plugin: 'plugin-b'}
    const {config, warnings} = controlPlaneConfig({answers: [HOST, other], env: {}, flags: {}})
    assert.equal(config.url.host, 'cp.example:8443')
    assert.deepEqual(warnings, [
      'plugins caractrl and plugin-b both answer caractrl:control-plane with different settings; ' +
      'using caractrl\'s',
    ])
  })

  it('treats a bad --server as a usage error, and other bad URLs as control-plane errors', () => {
    refused(() => controlPlaneConfig({answers: [], env: {}, flags: {server: 'ftp://x'}}),
      ExitCode.Usage,
      /^control-plane URL "ftp:\/\/x" from --server is not an http:\/\/ or https:\/\/ URL/)
    refused(() => controlPlaneConfig({answers: [], env: {CARACTRL_SERVER: 'nope'}, flags: {}}),
      ExitCode.ControlPlane, /^control-plane URL "nope" from CARACTRL_SERVER is not an http/)
    const answer = {...HOST, answer: {url: 'cp.example:8443'}}
    refused(() => controlPlaneConfig({answers: [answer], env: {}, flags: {}}),
      ExitCode.ControlPlane, /from the caractrl:control-plane hook of caractrl is not an http/)
  })

  it('hides credentials of a bad URL in its message', () => {
    refused(() => controlPlaneConfig({
      answers: [], env: {}, flags: {server: 'ftp://me:pw@x/?token=t1'},
    }), ExitCode.Usage, /"ftp:\/\/\*\*\*@x\/\?token=\*\*\*"/)
  })

  it('refuses hook answers that cannot be used, naming the plugin', () => {
    const bad: Array<[unknown, RegExp]> = [
      ['https://cp.example', /answered without a url/],
      [{token: 'x'}, /answered without a url/],
      [{token: 7, url: 'https://cp.example'}, /answered a token that is not a string/],
      [{headers: {a: 1}, url: 'https://cp.example'}, /answered headers that are not strings/],
      [{headers: null, url: 'https://cp.example'}, /answered headers that are not strings/],
    ]
    for (const [answer, message] of bad) {
      refused(() => controlPlaneConfig({answers: [{...HOST, answer}], env: {}, flags: {}}),
        ExitCode.ControlPlane, message)
      refused(() => controlPlaneConfig({answers: [{...HOST, answer}], env: {}, flags: {}}),
        ExitCode.ControlPlane,
        /^the caractrl:control-plane hook of caractrl answered .*: update that plugin/)
    }
  })
})
