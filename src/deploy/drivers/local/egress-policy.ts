import ipaddr from 'ipaddr.js'

/**
 * What an environment's processes may reach through the egress gateway. `public`: any public
 * address; a list: only those host names (an entry `*.example.com` covers its subdomains), still
 * only at public addresses.
 */
export type EgressPolicy =
  { readonly kind: 'public' } | { readonly kind: 'allow'; readonly hosts: readonly string[] }

/** The registries builds need by default (npm, Composer/Packagist, GitHub-hosted tarballs). */
export const DEFAULT_BUILD_HOSTS: readonly string[] = Object.freeze([
  'registry.npmjs.org',
  'registry.yarnpkg.com',
  'repo.packagist.org',
  'packagist.org',
  'codeload.github.com',
  'objects.githubusercontent.com',
])

const HOST_RE =
  /^(?=.{1,253}$)(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

/** Throws unless `host` is a host name or `*.`-pattern an allow list may hold. */
export function assertAllowHost(host: string): string {
  const h = host.toLowerCase()
  if (!HOST_RE.test(h)) throw new Error(`${host} is not a host name`)
  return h
}

/**
 * Only unicast public addresses pass. Refused: loopback, private (RFC 1918, ULA), link-local (which
 * holds the cloud metadata address 169.254.169.254), carrier-grade NAT, unspecified (`0.0.0.0`,
 * which Linux treats as loopback), multicast, broadcast, reserved and documentation ranges, and
 * IPv6 forms that embed a refused IPv4 address (mapped, NAT64 well-known prefix, 6to4, Teredo).
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  let ip = ipaddr.parse(address)
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6
    if (v6.isIPv4MappedAddress()) ip = v6.toIPv4Address()
    else {
      const range = v6.range()
      if (range !== 'unicast') return false
      // 64:ff9b::/96 (NAT64) and 2002::/16 (6to4) carry an IPv4 address that may be private.
      const parts = v6.parts
      if (parts[0] === 0x64 && parts[1] === 0xff9b) return false
      if (parts[0] === 0x2002) return false
      return true
    }
  }
  return (ip as ipaddr.IPv4).range() === 'unicast'
}

/** Whether the policy lets a connection to `host` (a name or an address literal) be attempted. */
export function hostAllowed(policy: EgressPolicy, host: string): boolean {
  if (policy.kind === 'public') return true
  const h = host.toLowerCase().replace(/\.$/, '')
  return policy.hosts.some((entry) =>
    entry.startsWith('*.') ? h.endsWith(entry.slice(1)) && h.length > entry.length - 1 : h === entry,
  )
}
