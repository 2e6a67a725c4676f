// Query parameters whose value is a credential in common deployments.
const SECRET_PARAM = /token|secret|password|passwd|auth|key|signature|sig|credential/i

/**
 * A URL fit to print: user info and credential-like query values are replaced, so that no
 * message, warning or debug line ever carries a secret.
 */
export function redactUrl(raw: string | URL): string {
  let url: URL
  try {
    url = new URL(String(raw))
  } catch {
    return String(raw).replace(/\/\/[^/@\s]*@/, '//***@')
  }

  if (url.username || url.password) {
    url.username = '***'
    url.password = ''
  }

  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) url.searchParams.set(key, '***')
  }

  return url.toString()
}

/** Redacts every URL inside a free-form message, such as an error from an HTTP client. */
export function redactUrls(message: string): string {
  return message.replaceAll(/\b[a-z][a-z\d+.-]*:\/\/[^\s"'<>]+/gi, (match) => redactUrl(match))
}
