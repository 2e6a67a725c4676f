import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MAX_LENGTH = 100
const run = promisify(execFile)

// Only tracked files count, and a line is measured in characters, not bytes: a line that holds
// × or ≤ is as long as it looks.
describe('line length', () => {
  it(`keeps every line of src/, test/ and bench/ within ${MAX_LENGTH} characters`, async () => {
    const {stdout} = await run('git',
      ['ls-files', '-z', '--', 'src/*.ts', 'test/*.ts', 'bench/*.ts'], {cwd: ROOT})
    const files = stdout.split('\0').filter(Boolean)
    assert.ok(files.length > 0, 'git ls-files found no files')

    const long: string[] = []
    for (const file of files) {
      const lines = (await readFile(join(ROOT, file), 'utf8')).split('\n')
      for (const [index, line] of lines.entries()) {
        const length = [...line].length
        if (length > MAX_LENGTH) long.push(`${file}:${index + 1} (${length} characters)`)
      }
    }

    assert.equal(long.length, 0,
      `${long.length} lines are longer than ${MAX_LENGTH} characters:\n${long.join('\n')}`)
  })
})
