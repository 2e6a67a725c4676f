import {readFileSync} from 'node:fs'

import {UsageError} from '../errors/index.js'

/** How certificates of the control plane and of agents are checked. */
export interface TlsTrust {
  /** PEM certificate authorities to trust instead of the system's. */
  ca?: string
  /** Where `ca` came from, for messages. */
  caSource?: string
  rejectUnauthorized: boolean
}

// OpenSSL's and Node's codes for a certificate that was presented but not trusted.
const CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
])

/** The warning printed whenever certificate checks are off. */
export const INSECURE_WARNING =
  'certificate checks are off (--insecure-skip-tls-verify): anyone on the network path can ' +
  'read and change this traffic; pass the CA with --certificate-authority FILE instead'

/** Whether an error (or its cause) is a certificate that was not trusted. */
export function isCertificateError(error: unknown): boolean {
  for (let current = error as {code?: unknown; cause?: unknown} | undefined, depth = 0;
    current && depth < 4; current = current.cause as typeof current, depth++) {
    if (typeof current.code === 'string' && CERTIFICATE_CODES.has(current.code)) return true
  }

  return false
}

/** What to do about an untrusted certificate, for the end of a message. */
export function certificateAdvice(trust: TlsTrust): string {
  const given = trust.caSource ? `the CA from ${trust.caSource} did not sign it; ` : ''
  return `${given}pass the CA that signed it with --certificate-authority FILE or ` +
    'CARACTRL_CA_FILE, or skip the check with --insecure-skip-tls-verify'
}

/** Reads a PEM file of certificate authorities named by a flag or an environment variable. */
export function readCaFile(path: string, source: string): string {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new UsageError(
      `${source} "${path}" cannot be read (${code}): give the path of a PEM CA file`,
    )
  }

  checkPem(pem, `${source} "${path}"`)
  return pem
}

/**
 * Refuses text that holds no PEM certificate, so a wrong file fails here and not as a TLS
 * error.
 */
export function checkPem(pem: string, what: string): void {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----): ` +
      'give the CA certificate in PEM form')
  }
}
