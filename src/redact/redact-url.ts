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

  let changed = false
  if (url.username || url.password) {
    url.username = '***'
    url.password = ''
    changed = true
  }

  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) {
      url.searchParams.set(key, '***')
      changed = true
    }
  }

  // Without a secret the text is shown as written, so people recognise what they typed.
  return changed ? url.toString() : String(raw)
}

/** Redacts every URL inside a free-form message, such as an error from an HTTP client. */
export function redactUrls(message: string): string {
  // Punctuation after a URL belongs to the sentence ("at http://host/: refused").
  return message.replaceAll(/\b[a-z][a-z\d+.-]*:\/\/[^\s"'<>]+/gi, (match) => {
    const [, url, trail] = /^(.*?)([.,:;)]*)$/s.exec(match)!
    return redactUrl(url) + trail
  })
}
