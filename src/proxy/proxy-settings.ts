import type {Agent} from 'node:http'

import {UsageError} from '../errors/index.js'
import {redactUrl} from '../redact/redact-url.js'
import {bypassesProxy, parseNoProxy, type Rule} from './no-proxy.js'

/** The proxy a request goes through, and where that was set, for messages. */
export interface ProxyChoice {
  url: URL
  /** `https_proxy`, `HTTP_PROXY`, … */
  source: string
}

type ProxyVariable = {name: string; value: string}

type ProxyAgentClasses = {
  HttpProxyAgent: typeof import('http-proxy-agent').HttpProxyAgent
  HttpsProxyAgent: typeof import('https-proxy-agent').HttpsProxyAgent
}

/**
 * `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (the lowercase spelling first, as curl reads
 * them), applied alike to both hops: the control-plane requests and the agent's WebSocket.
 * `http:` and `ws:` URLs use the HTTP proxy, `https:` and `wss:` the HTTPS one. A
 * WebSocket, and anything over TLS, goes through `CONNECT`; a plain control-plane request
 * is sent to the proxy with its full URL, as HTTP proxies expect.
 */
export class ProxySettings {
  // Read once: every new connection asks, and the environment of a run does not change.
  #http: ProxyVariable | undefined
  #https: ProxyVariable | undefined
  #noProxy: Rule[]
  #classes: ProxyAgentClasses | undefined
  #agents = new Map<string, Agent>()

  private constructor(env: NodeJS.ProcessEnv, classes?: ProxyAgentClasses) {
    this.#http = proxyVariable(env, 'http')
    this.#https = proxyVariable(env, 'https')
    this.#noProxy = parseNoProxy(env.no_proxy ?? env.NO_PROXY)
    this.#classes = classes
  }

  /** The proxy libraries are loaded only when a proxy is set at all. */
  static async fromEnv(env: NodeJS.ProcessEnv): Promise<ProxySettings> {
    if (!proxyVariable(env, 'http') && !proxyVariable(env, 'https')) return new ProxySettings(env)

    const [{HttpProxyAgent}, {HttpsProxyAgent}] = await Promise.all([
      import('http-proxy-agent'), import('https-proxy-agent'),
    ])
    return new ProxySettings(env, {HttpProxyAgent, HttpsProxyAgent})
  }

  /** Settings that never use a proxy, for code that dials without the environment. */
  static none(): ProxySettings {
    return new ProxySettings({})
  }

  /** The proxy for `target`, or nothing when none is set or `NO_PROXY` exempts it. */
  choose(target: string | URL): ProxyChoice | undefined {
    if (!this.#http && !this.#https) return undefined

    const url = new URL(target)
    const secure = url.protocol === 'https:' || url.protocol === 'wss:'
    const found = secure ? this.#https : this.#http
    if (!found) return undefined

    const port = Number(url.port) || (secure ? 443 : 80)
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    if (bypassesProxy(this.#noProxy, host, port)) return undefined

    return {source: found.name, url: parseProxyUrl(found.value, found.name)}
  }

  /**
   * The agent for requests to `target`: through its proxy, or undefined for a direct
   * connection. `tunnel` forces `CONNECT`, as a WebSocket needs even over plain HTTP.
   */
  agentFor(target: string | URL, options: {tunnel: boolean}): Agent | undefined {
    const choice = this.choose(target)
    if (!choice || !this.#classes) return undefined

    const plain = !options.tunnel && new URL(target).protocol === 'http:'
    const key = `${plain ? 'forward' : 'connect'} ${choice.url.href}`
    let agent = this.#agents.get(key)
    if (!agent) {
      const {HttpProxyAgent, HttpsProxyAgent} = this.#classes
      agent = plain ? new HttpProxyAgent(choice.url) : new HttpsProxyAgent(choice.url)
      this.#agents.set(key, agent)
    }

    return agent
  }
}

function proxyVariable(
  env: NodeJS.ProcessEnv, scheme: 'http' | 'https',
): ProxyVariable | undefined {
  for (const name of [`${scheme}_proxy`, `${scheme.toUpperCase()}_PROXY`]) {
    const value = env[name]
    if (value) return {name, value}
  }

  return undefined
}

/** What a message says about a proxy: its URL without credentials, and where it was set. */
export function describeProxy(choice: ProxyChoice): string {
  return `the proxy ${redactUrl(choice.url)} from ${choice.source}`
}

function parseProxyUrl(value: string, name: string): URL {
  // Most tools accept a bare host:port and take it for an HTTP proxy.
  const text = /^[a-z][a-z\d+.-]*:\/\//i.test(value) ? value : `http://${value}`
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {}

  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`${name} "${redactUrl(value)}" is not an http:// or https:// proxy URL: ` +
      `fix it, or unset ${name} to connect directly`)
  }

  return url
}
