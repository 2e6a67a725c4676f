import {readdirSync, readFileSync} from 'node:fs'

/** Resident set size of a process, in bytes, from /proc/PID/status (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

/** File descriptors a process holds open, from /proc/PID/fd (Linux). */
export function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/** Whether /proc can be read here; the tests that measure a process need it. */
export function hasProc(): boolean {
  try {
    residentBytes(process.pid)
    return true
  } catch {
    return false
  }
}

/** Polls `read` until it returns at most `target`; resolves with the last value read. */
export async function settleTo(
  read: () => number, target: number, timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs
  let value = read()
  while (value > target && Date.now() < deadline) {
    await new Promise((resolve) => {
      setTimeout(resolve, 100)
    })
    value = read()
  }

  return value
}
