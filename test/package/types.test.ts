import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
const run = promisify(execFile)

// The suite runs through tsx, which strips types without checking them, and the benchmarks
// are not run by the suite at all: only the compiler notices when either stops matching
// the code it imports.
describe('type checking', function () {
  this.timeout(180_000)

  for (const project of ['test', 'bench']) {
    it(`finds no type errors in ${project}/`, async () => {
      await run(process.execPath, [TSC, '-p', project], {cwd: ROOT}).catch((error) => {
        throw new Error(`tsc -p ${project} failed:\n${error.stdout}${error.stderr}`)
      })
    })
  }
})
