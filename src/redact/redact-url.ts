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
    return redactQuery(String(raw).replace(/\/\/[^/@\s]*@/, '//***@'))
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

/**
 * Redacts every URL inside a free-form message, such as an error from an HTTP client, and
 * credential-like query values even where no scheme makes them a URL (`host:9090?token=…`).
 */
export function redactUrls(message: string): string {
  // Every event passes through here; most texts, such as a peer's address, hold neither.
  if (!message.includes('://') && !message.includes('=')) return message

  // Punctuation after a URL belongs to the sentence ("at http://host/: refused").
  const urls = message.replaceAll(/\b[a-z][a-z\d+.-]*:\/\/[^\s"'<>]+/gi, (match) => {
    const [, url, trail] = /^(.*?)([.,:;)]*)$/s.exec(match)!
    return redactUrl(url) + trail
  })
  return redactQuery(urls)
}

/** Credential-like `key=value` pairs after `?`, `&` or `;`, wherever they stand. */
function redactQuery(text: string): string {
  // As with URLs, punctuation that ends the sentence is not part of the value.
  const pair = /([?&;])([^=&?;\s"'<>]+)=([^&;\s"'<>#]*?)(?=[.,:;)]*(?:[\s"'<>&#]|$))/g
  return text.replaceAll(pair, (match, lead, key, value) =>
    SECRET_PARAM.test(key) && value !== '***' && value !== '%2A%2A%2A' ?
      `${lead}${key}=***` :
      match)
}
