import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

describe('npm pack', function () {
  // prepack builds and writes the manifest, which takes a while on a busy machine.
  this.timeout(180_000)
  let out: string
  let files: string[]
  let manifest: {commands: Record<string, unknown>}

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'caractrl-pack-'))
    await run('npm', ['pack', '--pack-destination', out], {
      cwd: ROOT,
      env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
    })
    const [tarball] = (await readdir(out)).filter((name) => name.endsWith('.tgz'))
    assert.ok(tarball, `npm pack wrote no tarball into ${out}`)
    const path = join(out, tarball)
    files = (await run('tar', ['-tzf', path])).stdout.split('\n').filter(Boolean)
    manifest = JSON.parse((await run('tar', ['-xzOf', path, 'package/oclif.manifest.json'])).stdout)
  })

  after(async () => {
    if (out) await rm(out, {force: true, recursive: true})
  })

  it('packs the build, the bin scripts, package.json and the README', () => {
    for (const file of [
      'package/package.json',
      'package/README.md',
      'package/bin/run.js',
      'package/bin/dev.js',
      'package/dist/index.js',
      'package/dist/index.d.ts',
      'package/dist/commands/port-forward.js',
    ]) {
      assert.ok(files.includes(file), `${file} is missing from the package`)
    }
  })

  it('ships a manifest at the top level that lists the command', () => {
    assert.ok(files.includes('package/oclif.manifest.json'))
    assert.ok('port-forward' in manifest.commands, JSON.stringify(Object.keys(manifest.commands)))
  })

  it('leaves no manifest behind in the working tree', () => {
    assert.equal(existsSync(join(ROOT, 'oclif.manifest.json')), false)
  })

  it('ships npm-shrinkwrap.json and carries every run-time dependency inside', async () => {
    assert.ok(files.includes('package/npm-shrinkwrap.json'))
    const pjson = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
    for (const name of Object.keys(pjson.dependencies)) {
      assert.ok(files.includes(`package/node_modules/${name}/package.json`),
        `${name} is not bundled`)
    }
  })

  it('names an exact version of every run-time dependency', async () => {
    const {dependencies} = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
    const ranges = Object.entries(dependencies).filter(([, version]) =>
      !/^\d+\.\d+\.\d+$/.test(version as string))
    assert.deepEqual(ranges, [])
  })

  it('keeps sources and tests out of the package', () => {
    const stray = files.filter((file) => /^package\/(src|test|demo)\//.test(file))
    assert.deepEqual(stray, [])
  })
})
