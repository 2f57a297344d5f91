/**
 * IPv4 / IPv6 parsing and CIDR sets for @ipMatch and @ipMatchFromFile. Parsing is strict, like
 * `inet_pton`: dotted quads without leading zeros, IPv6 with at most one `::` and an optional trailing
 * dotted quad; no zone ids.
 */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

export function parseIpv4(text: string): Uint8Array | undefined {
  const m = IPV4.exec(text)
  if (m === null) return undefined
  const out = new Uint8Array(4)
  for (let k = 0; k < 4; k++) {
    const part = m[k + 1]!
    if (part.length > 1 && part.startsWith('0')) return undefined
    const v = Number(part)
    if (v > 255) return undefined
    out[k] = v
  }
  return out
}

export function parseIpv6(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (half: string): number[] | undefined => {
    if (half === '') return []
    const out: number[] = []
    const parts = half.split(':')
    for (let k = 0; k < parts.length; k++) {
      const part = parts[k]!
      if (k === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part)
        if (v4 === undefined) return undefined
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined
        out.push(parseInt(part, 16))
      }
    }
    return out
  }
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (head === undefined || tail === undefined) return undefined
  // A dotted quad may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail]
  const out = new Uint8Array(16)
  all.forEach((g, k) => {
    out[2 * k] = g >> 8
    out[2 * k + 1] = g & 0xff
  })
  return out
}

interface Network {
  readonly bytes: Uint8Array
  readonly prefix: number
}

function inNetwork(addr: Uint8Array, net: Network): boolean {
  let bits = net.prefix
  for (let k = 0; bits > 0; k++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if ((addr[k]! & mask) !== (net.bytes[k]! & mask)) return false
  }
  return true
}

/** A set of IPv4 and IPv6 networks. */
export class IpSet {
  readonly #v4: Network[] = []
  readonly #v6: Network[] = []

  get size(): number {
    return this.#v4.length + this.#v6.length
  }

  /** Adds `addr` or `addr/prefix`. Returns false when the entry is not a valid address or prefix. */
  add(entry: string): boolean {
    const slash = entry.indexOf('/')
    const host = slash === -1 ? entry : entry.slice(0, slash)
    const v6 = host.includes(':')
    const bytes = v6 ? parseIpv6(host) : parseIpv4(host)
    if (bytes === undefined) return false
    const max = v6 ? 128 : 32
    let prefix = max
    if (slash !== -1) {
      const text = entry.slice(slash + 1)
      if (!/^\d{1,3}$/.test(text)) return false
      prefix = Number(text)
      if (prefix > max) return false
    }
    ;(v6 ? this.#v6 : this.#v4).push({ bytes, prefix })
    return true
  }

  /**
   * Whether `addr` (no prefix) is in the set. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a
   * dual-stack Node server reports) is also checked against the IPv4 networks.
   */
  has(addr: string): boolean {
    if (addr.includes(':')) {
      const bytes = parseIpv6(addr)
      if (bytes === undefined) return false
      if (this.#v6.some((n) => inNetwork(bytes, n))) return true
      const mapped = bytes.subarray(0, 12).every((b, k) => b === (k < 10 ? 0 : 0xff))
      return mapped && this.#v4.some((n) => inNetwork(bytes.subarray(12), n))
    }
    const bytes = parseIpv4(addr)
    return bytes !== undefined && this.#v4.some((n) => inNetwork(bytes, n))
  }
}
