import type WebSocket from 'ws'

let loading: Promise<typeof WebSocket> | undefined

/**
 * ws and the modules under it are a noticeable share of start-up, and nothing needs them
 * before the first connection: they are loaded once the listeners are up, or by the first
 * connection if it comes sooner, and only once.
 */
export async function loadWebSocket(): Promise<typeof WebSocket> {
  loading ??= import('ws').then((module) => module.default)
  return loading
}
