import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'

/** Clock ticks per second of the utime and stime fields in /proc/PID/stat. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim())

/**
 * CPU-seconds (user + system) a process has used, with its reaped children and those still
 * running: socat forks one child per connection, and that child does the relaying.
 */
export function cpuSeconds(pid: number): number {
  let ticks = ownTicks(pid)
  for (const child of childrenOf(pid)) ticks += ownTicks(child)
  return ticks / CLOCK_TICKS
}

/** Live child processes, read from every thread's children list. */
export function childrenOf(pid: number): number[] {
  const children: number[] = []
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
      if (list) children.push(...list.split(/\s+/).map(Number))
    }
  } catch {}

  return children
}

/** Resident set size in bytes, from VmRSS; 0 once the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** The kernel's count of connections dropped because an accept queue was full. */
export function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n')
  for (let index = 0; index + 1 < lines.length; index += 2) {
    if (!lines[index].startsWith('TcpExt:')) continue

    const names = lines[index].split(/\s+/)
    const values = lines[index + 1].split(/\s+/)
    return Number(values[names.indexOf('ListenOverflows')])
  }

  return 0
}

/** Waits until a relay has reaped its per-connection children, so their CPU is counted. */
export async function childrenSettled(pid: number, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (childrenOf(pid).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => {
      setTimeout(resolve, 20)
    })
  }
}

function ownTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number)
    const [utime, stime, cutime, cstime] = fields.slice(11, 15)
    return utime + stime + cutime + cstime
  } catch {
    return 0
  }
}
