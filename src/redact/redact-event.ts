import type {ForwardEvent} from '../events/forward-event.js'
import {redactUrls} from './redact-url.js'

/** The event with every text field redacted; the same object when nothing needed it. */
export function redactEvent(event: ForwardEvent): ForwardEvent {
  let copy: Record<string, unknown> | undefined
  for (const [key, value] of Object.entries(event)) {
    if (typeof value !== 'string') continue

    const safe = redactUrls(value)
    if (safe === value) continue
    copy ??= {...event}
    copy[key] = safe
  }

  return (copy ?? event) as ForwardEvent
}
