import type {IncomingMessage} from 'node:http'

import {describeProblem} from '../protocol/problem-details.js'

/** Longest Problem Details body read from a refused upgrade. */
const MAX_REFUSAL_BODY = 16 * 1024

/**
 * Reads the agent's answer to an upgrade it refused and describes it in one line. Settles
 * even when the body is cut short, since the agent may close without finishing it.
 */
export async function describeRefusal(response: IncomingMessage): Promise<string> {
  const status = response.statusCode ?? 0
  const chunks: Buffer[] = []
  let length = 0
  response.on('data', (chunk: Buffer) => {
    if (length < MAX_REFUSAL_BODY) chunks.push(chunk)
    length += chunk.length
  })
  response.on('error', () => {})
  await new Promise((resolve) => {
    response.once('close', resolve)
  })

  const body = Buffer.concat(chunks).subarray(0, MAX_REFUSAL_BODY).toString('utf8')
  return describeProblem(status, response.statusMessage ?? '', body)
}
