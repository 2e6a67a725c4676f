/**
 * RFC 9457 Problem Details, as the control plane and the agent send them on failure.
 * Only the members the plugin shows are read; the rest are ignored.
 */
export interface ProblemDetails {
  title?: string
  status?: number
  detail?: string
  errors?: string[]
}

/** Longest body text shown when an answer is not Problem Details (an HTML page, say). */
const MAX_SNIPPET = 120

/**
 * One line for a failed HTTP answer: `Title: detail` from Problem Details, else the status
 * with a short, single-line excerpt of whatever came back.
 */
export function describeProblem(status: number, statusText: string, body: string): string {
  const problem = parseProblem(body)
  if (isProblemDetails(problem)) {
    const title = problem.title || statusText || `HTTP ${status}`
    const parts = [problem.detail ? `${title}: ${problem.detail}` : title]
    if (problem.errors?.length) parts.push(`(${problem.errors.join('; ')})`)
    return parts.join(' ')
  }

  const label = statusText ? `HTTP ${status} ${statusText}` : `HTTP ${status}`
  const snippet = plainText(body)
  return snippet ? `${label} (response was not Problem Details: "${snippet}")` : label
}

/** Whether an answer parsed as Problem Details says something: a title or a detail. */
export function isProblemDetails(problem: ProblemDetails | undefined): problem is ProblemDetails {
  return problem !== undefined && Boolean(problem.title || problem.detail)
}

export function parseProblem(body: string): ProblemDetails | undefined {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return undefined
  }

  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  const text = (key: string) =>
    (typeof record[key] === 'string' ? record[key] as string : undefined)
  const errors = Array.isArray(record.errors) ?
    record.errors.filter((item): item is string => typeof item === 'string') :
    undefined
  return {
    detail: text('detail'),
    errors,
    status: typeof record.status === 'number' ? record.status : undefined,
    title: text('title'),
  }
}

function plainText(body: string): string {
  const text = body.replaceAll(/<[^>]*>/g, ' ').replaceAll(/\s+/g, ' ').trim()
  return text.length > MAX_SNIPPET ? `${text.slice(0, MAX_SNIPPET)}…` : text
}
