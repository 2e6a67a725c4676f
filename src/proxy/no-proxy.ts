import {BlockList, isIP} from 'node:net'

/** One `NO_PROXY` entry, read once. */
export type Rule =
  | {kind: 'all'}
  | {kind: 'cidr'; list: BlockList; port?: number}
  | {kind: 'ip'; address: string; port?: number}
  | {kind: 'host'; suffix: string; port?: number}

/**
 * Reads `NO_PROXY` as curl and most tools do: entries separated by commas or spaces; `*` for
 * everything; a host name matches itself and every name below it (a leading dot or `*.` is
 * allowed); an IP address matches itself; `a.b.c.d/n` and `v6::/n` match a range; any entry
 * may end in `:port` to match that port only.
 */
export function parseNoProxy(value: string | undefined): Rule[] {
  const rules: Rule[] = []
  for (const raw of (value ?? '').split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (!entry) continue
    if (entry === '*') {
      rules.push({kind: 'all'})
      continue
    }

    const rule = parseEntry(entry)
    if (rule) rules.push(rule)
  }

  return rules
}

/** Whether `NO_PROXY` rules exempt a request to `host` (no brackets) on `port`. */
export function bypassesProxy(rules: Rule[], host: string, port: number): boolean {
  const name = host.toLowerCase().replace(/\.$/, '')
  const family = isIP(name)
  return rules.some((rule) => {
    if (rule.kind === 'all') return true
    if (rule.port !== undefined && rule.port !== port) return false
    if (rule.kind === 'ip') return family !== 0 && sameAddress(rule.address, name)
    if (rule.kind === 'cidr') {
      return family !== 0 && rule.list.check(name, family === 6 ? 'ipv6' : 'ipv4')
    }
    return family === 0 && (name === rule.suffix || name.endsWith(`.${rule.suffix}`))
  })
}

function parseEntry(entry: string): Rule | undefined {
  const {address, port} = splitPort(entry)
  const slash = address.indexOf('/')
  if (slash !== -1) {
    const base = address.slice(0, slash)
    const bits = Number(address.slice(slash + 1))
    const family = isIP(base)
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
      return undefined
    }

    const list = new BlockList()
    list.addSubnet(base, bits, family === 6 ? 'ipv6' : 'ipv4')
    return {kind: 'cidr', list, port}
  }

  if (isIP(address)) return {address, kind: 'ip', port}
  const suffix = address.replace(/^\*?\./, '')
  return suffix ? {kind: 'host', port, suffix} : undefined
}

/** `host:port`, `[v6]:port`, a bare v6 address or a bare name. */
function splitPort(entry: string): {address: string; port?: number} {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
  if (bracketed) {
    return {address: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : undefined}
  }

  // More than one colon without brackets is an IPv6 address, perhaps with a /prefix.
  if ((entry.match(/:/g) ?? []).length > 1) return {address: entry}

  const match = /^(.*):(\d+)$/.exec(entry)
  return match ? {address: match[1], port: Number(match[2])} : {address: entry}
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true
  const list = new BlockList()
  const family = isIP(a) === 6 ? 'ipv6' : 'ipv4'
  list.addAddress(a, family)
  return list.check(b, isIP(b) === 6 ? 'ipv6' : 'ipv4')
}
