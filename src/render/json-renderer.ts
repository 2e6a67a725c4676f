import type {ForwardEvent} from '../events/forward-event.js'

/**
 * One JSON object per line for every event, for scripts: `{"type":"ready","port":15432,...}`.
 * Each object carries the time it happened.
 */
export class JsonRenderer {
  #write: (line: string) => void

  constructor(write: (line: string) => void) {
    this.#write = write
  }

  render(event: ForwardEvent): void {
    this.#write(JSON.stringify({time: new Date().toISOString(), ...event}))
  }
}
