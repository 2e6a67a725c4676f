/** What the local client is told when the agent's side of a stream ends. */
export type StreamEnd = {clean: true} | {clean: false; reason: string}

/** ws's code for a connection that closed without a close frame. */
const NO_CLOSE_FRAME = 1006

/** Codes of close frames that say the stream is complete. */
const CLEAN_CODES = new Set([1000, 1001, 1005])

/** Longest close reason shown; the protocol caps it at 123 bytes anyway. */
const MAX_REASON = 123

/**
 * Classifies how the agent ended a stream: cleanly, to be passed on as a FIN after the last
 * byte, or abnormally, to be passed on as a reset with the reason.
 *
 * A close frame's code decides, even if the connection is reset right after it (an agent
 * that closes with our data unread resets). Without a close frame it is the connection that
 * decides: agents built on gorilla/websocket, cara-agent among them, end every stream by
 * simply closing it, so a clean close is their normal end and only a transport error
 * (`transportError`, such as a reset) is a failure.
 */
export function streamEnd(code: number, reason: Buffer, transportError?: Error): StreamEnd {
  if (code === NO_CLOSE_FRAME) {
    return transportError ?
      {clean: false, reason: `lost the connection to the agent: ${transportError.message}`} :
      {clean: true}
  }

  if (CLEAN_CODES.has(code)) return {clean: true}

  // The reason is the agent's text, shown on a terminal: one line, no control characters.
  const text = reason.toString('utf8').slice(0, MAX_REASON)
    .replaceAll(/[\u0000-\u001F\u007F]/g, ' ')
  const why = text ? `: ${text}` : ''
  return {clean: false, reason: `agent ended the stream with close code ${code}${why}`}
}
