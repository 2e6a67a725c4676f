import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

/** A line the traced process adds to its log when stderr first gets a text holding `when`. */
export interface LoadMark {
  when: string
  line: string
}

const HOOKS = `import {appendFileSync} from 'node:fs'

let log
export function initialize(data) {
  log = data.log
}

export async function load(url, context, nextLoad) {
  appendFileSync(log, url + '\\n')
  return nextLoad(url, context)
}
`

function registerScript(mark?: LoadMark): string {
  const register = `import {appendFileSync} from 'node:fs'
import {register} from 'node:module'

const log = process.env.CARACTRL_TEST_LOAD_LOG
register('./hooks.mjs', import.meta.url, {data: {log}})
`
  if (!mark) return register

  return register + `const write = process.stderr.write.bind(process.stderr)
let marked = false
process.stderr.write = (chunk, ...rest) => {
  if (!marked && String(chunk).includes(${JSON.stringify(mark.when)})) {
    marked = true
    appendFileSync(log, ${JSON.stringify(mark.line)} + '\\n')
  }
  return write(chunk, ...rest)
}
`
}

/**
 * A module hook for a process under test, preloaded with --import: it appends the URL of
 * every module the ESM loader loads to a log file. A load is logged before the module runs,
 * so the log holds the order in which the process did things, marks included.
 */
export class LoadTracer {
  readonly dir: string

  private constructor(dir: string) {
    this.dir = dir
  }

  static async create(mark?: LoadMark): Promise<LoadTracer> {
    const dir = await mkdtemp(join(tmpdir(), 'caractrl-load-trace-'))
    await Promise.all([
      writeFile(join(dir, 'hooks.mjs'), HOOKS),
      writeFile(join(dir, 'register.mjs'), registerScript(mark)),
    ])
    return new LoadTracer(dir)
  }

  /** The environment that makes a Node.js process log its loads to `log`. */
  env(log: string): NodeJS.ProcessEnv {
    const register = pathToFileURL(join(this.dir, 'register.mjs')).href
    return {CARACTRL_TEST_LOAD_LOG: log, NODE_OPTIONS: `--import=${register}`}
  }

  async remove(): Promise<void> {
    await rm(this.dir, {force: true, recursive: true})
  }
}
