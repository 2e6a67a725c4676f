import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

/** A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost. */
export interface TestCertificates {
  dir: string
  /** Path of the CA certificate, as --certificate-authority takes it. */
  caFile: string
  caPem: string
  /** Key and certificate for a test server. */
  server: {key: string; cert: string}
  remove(): Promise<void>
}

const run = promisify(execFile)

/**
 * Makes a CA and a server certificate with the openssl CLI, in a temporary folder, so no key
 * is ever checked in. Resolves with the reason when openssl is missing; under CI=true that
 * is a failure instead.
 */
export async function makeCertificates(): Promise<TestCertificates | string> {
  const dir = await mkdtemp(join(tmpdir(), 'caractrl-certs-'))
  const at = (name: string) => join(dir, name)
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
      '-subj', '/CN=caractrl test CA', '-keyout', at('ca.key'), '-out', at('ca.pem')])
    await writeFile(at('server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n')
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1',
      '-keyout', at('server.key'), '-out', at('server.csr')])
    await run('openssl', ['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'),
      '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', at('server.ext'),
      '-out', at('server.pem')])
  } catch (error) {
    await rm(dir, {force: true, recursive: true})
    const reason =
      `openssl could not make test certificates: ${(error as Error).message.split('\n')[0]}`
    if (process.env.CI === 'true') throw new Error(`openssl is required under CI=true: ${reason}`)
    return reason
  }

  const [caPem, key, cert] = await Promise.all(['ca.pem', 'server.key', 'server.pem']
    .map((name) => readFile(at(name), 'utf8')))
  return {
    caFile: at('ca.pem'),
    caPem,
    dir,
    remove: () => rm(dir, {force: true, recursive: true}),
    server: {cert, key},
  }
}
