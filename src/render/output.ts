import type {EmitEvent, ForwardEvent} from '../events/forward-event.js'
import {redactEvent} from '../redact/redact-event.js'
import {JsonRenderer} from './json-renderer.js'
import {LineWriter} from './line-writer.js'
import {TextRenderer, type Verbosity} from './text-renderer.js'

export interface OutputOptions {
  /** Also write every event as a JSON line on stdout. */
  json: boolean
  verbosity: Verbosity
  /** `project/service`, for human lines. */
  target: string
}

/** Where events go: human lines on stderr always, JSON lines on stdout when asked for. */
export class Output {
  readonly emit: EmitEvent
  #stdout = new LineWriter(process.stdout)
  #stderr = new LineWriter(process.stderr)

  constructor(options: OutputOptions) {
    const text = new TextRenderer(
      (line) => this.#stderr.write(line), options.target, options.verbosity,
    )
    const json = options.json ? new JsonRenderer((line) => this.#stdout.write(line)) : undefined
    this.emit = (event: ForwardEvent) => {
      // The last stop before any reader: whatever built a message, no credential leaves.
      const safe = redactEvent(event)
      text.render(safe)
      json?.render(safe)
    }
  }

  /** Resolves once what was written has reached the readers, so an exit loses nothing. */
  async flush(): Promise<void> {
    await Promise.all([this.#stdout.flush(), this.#stderr.flush()])
  }
}
