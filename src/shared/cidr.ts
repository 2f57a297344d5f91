import ipaddr from 'ipaddr.js'

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6

/** An address range: a network address and its prefix length (32/128 for a single address). */
export interface Cidr {
  readonly address: IpAddress
  readonly bits: number
}

/**
 * Parses a CIDR ("10.0.0.0/8", "2001:db8::/32") or a single address; null when it is neither. The one parser
 * behind every place that takes address ranges (trusted proxies, allow lists, egress rules), so they agree on
 * what is valid.
 */
export function parseCidr(text: string): Cidr | null {
  const t = text.trim()
  const slash = t.indexOf('/')
  const host = slash < 0 ? t : t.slice(0, slash)
  // IPv4 only in its dotted four-part form: `10.1`, `0x0a.0.0.1` and `010.0.0.1` are valid to inet_aton but mean
  // different things to different readers, so a range written that way is refused rather than guessed.
  if (!host.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(host)) return null
  try {
    if (slash >= 0) {
      const [address, bits] = ipaddr.parseCIDR(t)
      return { address, bits }
    }
    if (!ipaddr.isValid(t)) return null
    const address = ipaddr.parse(t)
    return { address, bits: address.kind() === 'ipv4' ? 32 : 128 }
  } catch {
    return null
  }
}

/** The canonical text of a range (`10.0.0.0/8`, `2001:db8::/32`). */
export function formatCidr(cidr: Cidr): string {
  return `${cidr.address.toString()}/${cidr.bits}`
}
