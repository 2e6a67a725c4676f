import {execFile} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)

let packing: Promise<string> | undefined

/**
 * The CLI's entry in the package as npm would install it: with its oclif manifest and its
 * bundled dependencies, which the working tree lacks or has in another layout. Packed once
 * per run and removed when the run exits.
 */
export async function packedBin(): Promise<string> {
  packing ??= pack()
  return packing
}

async function pack(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'caractrl-bench-packed-'))
  process.once('exit', () => rmSync(out, {force: true, recursive: true}))
  await run('npm', ['pack', '--pack-destination', out], {
    cwd: ROOT,
    env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
  })
  const tarball = readdirSync(out).find((name) => name.endsWith('.tgz'))
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${out}`)
  await run('tar', ['-xzf', join(out, tarball), '-C', out])
  return join(out, 'package', 'bin', 'run.js')
}
