import ipaddr from 'ipaddr.js'
import { EdgeConfigError } from './errors.js'
import { parseCidr } from '../shared/cidr.js'

type Address = ipaddr.IPv4 | ipaddr.IPv6

/** A parsed allow list; matching is done on parsed ranges, never on strings. */
export interface AllowList {
  has(address: string): boolean
}

/**
 * Parses CIDRs ("10.0.0.0/8", "2001:db8::/32") and single addresses. Throws PAL_EDGE_CIDR_INVALID on the first bad
 * entry so the control plane can refuse it before it reaches traffic.
 */
export function compileAllowList(entries: readonly string[]): AllowList {
  const ranges: [Address, number][] = entries.map((entry, i) => {
    const cidr = parseCidr(entry)
    if (!cidr) throw new EdgeConfigError('PAL_EDGE_CIDR_INVALID', `ipAllow[${i}] is not an address or CIDR`)
    const address = unmap(cidr.address)
    // An IPv4-mapped range (::ffff:10.0.0.0/104) is matched as the IPv4 range it maps.
    return [address, cidr.address.kind() === 'ipv6' && address.kind() === 'ipv4' ? cidr.bits - 96 : cidr.bits]
  })
  return {
    has(address: string): boolean {
      const parsed = parseClientAddress(address)
      if (!parsed) return false
      for (const [range, bits] of ranges) {
        if (range.kind() === parsed.kind() && parsed.match(range, bits)) return true
      }
      return false
    },
  }
}

/** Parses a socket address; "::ffff:1.2.3.4" becomes IPv4 so one rule covers both spellings. */
export function parseClientAddress(address: string): Address | null {
  if (!ipaddr.isValid(address)) return null
  return unmap(ipaddr.parse(address))
}

function unmap(addr: Address): Address {
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address()
  }
  return addr
}
