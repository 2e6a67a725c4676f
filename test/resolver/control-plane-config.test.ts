import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {collectAnswers} from '../../src/hooks/collect-answers.js'
import {controlPlaneConfig, tlsTrust} from '../../src/resolver/control-plane-config.js'

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

function hook(url: string, extra: Record<string, unknown> = {}, plugin = 'caractrl') {
  return {answer: {url, ...extra}, isRoot: plugin === 'caractrl', plugin}
}

describe('control-plane settings', () => {
  let dir: string

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'caractrl-config-'))
    writeFileSync(join(dir, 'flag-ca.pem'), PEM.replace('MIIB', 'FLAG'))
    writeFileSync(join(dir, 'env-ca.pem'), PEM.replace('MIIB', 'ENVI'))
    writeFileSync(join(dir, 'not-pem.txt'), 'hello')
  })

  after(() => rmSync(dir, {force: true, recursive: true}))

  it('uses the default server when nothing else is given', () => {
    const {config} = controlPlaneConfig({answers: [], env: {}, flags: {}})
    assert.equal(config.url.toString(), 'http://localhost:8080/')
    assert.equal(config.token, undefined)
    assert.equal(config.insecureSkipTlsVerify, false)
  })

  it('takes the environment over the default', () => {
    const {config} = controlPlaneConfig({
      answers: [],
      env: {CARACTRL_SERVER: 'https://env.example:1', CARACTRL_TOKEN: 'env-token'},
      flags: {},
    })
    assert.equal(config.url.host, 'env.example:1')
    assert.equal(config.token, 'env-token')
    assert.equal(config.source, 'CARACTRL_SERVER')
  })

  it('takes the hook answer over the environment, field by field', () => {
    const {config} = controlPlaneConfig({
      answers: [hook('https://hook.example', {headers: {'x-org': 'a'}})],
      env: {CARACTRL_SERVER: 'https://env.example', CARACTRL_TOKEN: 'env-token'},
      flags: {},
    })
    assert.equal(config.url.host, 'hook.example')
    assert.equal(config.token, 'env-token', 'the hook gave no token, so the environment\'s is used')
    assert.deepEqual(config.headers, {'x-org': 'a'})
  })

  it('takes --server over the hook and keeps the hook\'s token', () => {
    const {config} = controlPlaneConfig({
      answers: [hook('https://hook.example', {token: 'hook-token'})],
      env: {CARACTRL_SERVER: 'https://env.example'},
      flags: {server: 'http://flag.example:9'},
    })
    assert.equal(config.url.host, 'flag.example:9')
    assert.equal(config.source, '--server')
    assert.equal(config.token, 'hook-token')
  })

  it('takes the CA from the flag, then the hook, then CARACTRL_CA_FILE', () => {
    const env = {CARACTRL_CA_FILE: join(dir, 'env-ca.pem')}
    const fromFlag = controlPlaneConfig({
      answers: [hook('https://h', {ca: PEM})],
      env,
      flags: {certificateAuthority: join(dir, 'flag-ca.pem')},
    })
    assert.match(fromFlag.config.ca!, /FLAG/)
    const fromHook = controlPlaneConfig({answers: [hook('https://h', {ca: PEM})], env, flags: {}})
    assert.match(fromHook.config.ca!, /MIIB/)
    const fromEnv = controlPlaneConfig({answers: [hook('https://h')], env, flags: {}})
    assert.match(fromEnv.config.ca!, /ENVI/)
    assert.equal(fromEnv.config.caSource, 'CARACTRL_CA_FILE')
  })

  it('refuses a CA file that is missing or holds no certificate, naming where it came from', () => {
    assert.throws(() => tlsTrust({certificateAuthority: join(dir, 'nope.pem')}, {}),
      /--certificate-authority ".*nope.pem" cannot be read \(ENOENT\)/)
    assert.throws(() => tlsTrust({}, {CARACTRL_CA_FILE: join(dir, 'not-pem.txt')}),
      /CARACTRL_CA_FILE ".*not-pem.txt" holds no PEM certificate/)
  })

  it('turns certificate checks off from the flag or the hook', () => {
    assert.equal(controlPlaneConfig({answers: [], env: {}, flags: {insecureSkipTlsVerify: true}})
      .config.insecureSkipTlsVerify, true)
    assert.equal(controlPlaneConfig({
      answers: [hook('https://h', {insecureSkipTlsVerify: true})], env: {}, flags: {},
    }).config.insecureSkipTlsVerify, true)
  })

  it('uses the first answer and warns, without the token, when another disagrees', () => {
    const {config, warnings} = controlPlaneConfig({
      answers: [
        hook('https://root', {token: 'root-secret'}),
        hook('https://other', {}, 'plugin-x'),
      ],
      env: {},
      flags: {},
    })
    assert.equal(config.url.host, 'root')
    assert.equal(warnings.length, 1)
    assert.match(warnings[0], /caractrl and plugin-x both answer caractrl:control-plane/)
    assert.doesNotMatch(warnings[0], /root-secret/)
  })

  it('does not warn when two answers agree', () => {
    const {warnings} = controlPlaneConfig({
      answers: [hook('https://same', {token: 't'}), hook('https://same', {token: 't'}, 'plugin-x')],
      env: {},
      flags: {},
    })
    assert.deepEqual(warnings, [])
  })

  it('refuses a hook answer without a url, naming the plugin', () => {
    assert.throws(() => controlPlaneConfig({
      answers: [{answer: {}, isRoot: false, plugin: 'p'}], env: {}, flags: {},
    }), /the caractrl:control-plane hook of p answered without a url/)
  })

  it('orders answers by plugin, the root first, whatever order they finished in', async () => {
    const result = (name: string, isRoot = false) =>
      ({plugin: {isRoot, name}, result: {url: `http://${name}`}})
    const config = {
      async runHook() {
        return {failures: [], successes: [result('zeta'), result('alpha'), result('host', true)]}
      },
    }
    const answers = await collectAnswers(config as never, 'caractrl:control-plane', {})
    assert.deepEqual(answers.map((answer) => answer.plugin), ['host', 'alpha', 'zeta'])
  })
})
