import { lookup as dnsLookup, resolveTxt as dnsResolveTxt } from 'node:dns/promises'
import { request } from 'node:http'
import ipaddr from 'ipaddr.js'

/** Where a workspace proves control of a domain by DNS: a TXT record on this name. */
export const CHALLENGE_LABEL = '_palisade-challenge'
/** Where a workspace proves control of a domain by HTTP: the token served under this path of the domain. */
export const CHALLENGE_PATH = '/.well-known/palisade-challenge/'
/** The TXT record's value is this prefix and the claim's token. */
export const TXT_PREFIX = 'palisade-verification='

export interface DomainProofOptions {
  /** TXT lookup (default: the system resolver). Injected by tests. */
  readonly resolveTxt?: (name: string) => Promise<string[][]>
  /** Address lookup for the HTTP check (default: the system resolver). */
  readonly lookup?: (host: string) => Promise<ReadonlyArray<{ address: string; family: number }>>
  /** Port of the HTTP check: 80, except in tests. */
  readonly httpPort?: number
  /**
   * Lets the HTTP check connect to loopback, private, link-local and other non-public addresses. Off by
   * default: a claimed name resolving to 127.0.0.1 or 169.254.169.254 would make the control plane probe its
   * own network (SSRF). Only tests turn it on.
   */
  readonly allowPrivateAddresses?: boolean
  /** Per check, ms (default 5 s). */
  readonly timeoutMs?: number
}

export type ProofResult = { readonly ok: true; readonly method: 'dns' | 'http' } | { readonly ok: false }

/** The largest HTTP answer read: a token is 32 characters. */
const MAX_BODY = 1024

/** TXT `_palisade-challenge.<name>` holds `palisade-verification=<token>` (one of its records, chunks joined). */
async function dnsProves(name: string, token: string, opts: DomainProofOptions): Promise<boolean> {
  const resolveTxt = opts.resolveTxt ?? dnsResolveTxt
  try {
    const records = await withTimeout(resolveTxt(`${CHALLENGE_LABEL}.${name}`), opts.timeoutMs ?? 5_000)
    return records.some((chunks) => chunks.join('').trim() === `${TXT_PREFIX}${token}`)
  } catch {
    return false // NXDOMAIN, no data, timeout: not proven
  }
}

function isPublic(address: string): boolean {
  try {
    let parsed = ipaddr.parse(address)
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
      parsed = (parsed as ipaddr.IPv6).toIPv4Address()
    return parsed.range() === 'unicast'
  } catch {
    return false
  }
}

/**
 * GET `http://<name>/.well-known/palisade-challenge/<token>` answers 200 with the token. The connection goes
 * to the address just resolved (no second lookup to rebind), redirects are not followed, at most 1 KiB is read.
 */
async function httpProves(name: string, token: string, opts: DomainProofOptions): Promise<boolean> {
  const timeoutMs = opts.timeoutMs ?? 5_000
  let addresses: ReadonlyArray<{ address: string; family: number }>
  try {
    const lookup = opts.lookup ?? ((host: string) => dnsLookup(host, { all: true }))
    addresses = await withTimeout(lookup(name), timeoutMs)
  } catch {
    return false
  }
  const usable = addresses.filter((a) => opts.allowPrivateAddresses === true || isPublic(a.address))
  // Every address must be public: a name with one public and one private address would still be an SSRF.
  const target = usable.length === addresses.length ? usable[0] : undefined
  if (!target) return false
  return new Promise<boolean>((resolve) => {
    const req = request(
      {
        host: target.address,
        family: target.family,
        port: opts.httpPort ?? 80,
        method: 'GET',
        path: `${CHALLENGE_PATH}${token}`,
        headers: { host: name, 'user-agent': 'Palisade-Domain-Verification/1', accept: 'text/plain' },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          resolve(false)
          req.destroy()
          return
        }
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
          if (body.length > MAX_BODY) req.destroy()
        })
        res.on('end', () => resolve(body.length <= MAX_BODY && body.trim() === token))
        res.on('error', () => resolve(false))
        res.on('close', () => resolve(body.length <= MAX_BODY && body.trim() === token && res.complete))
      },
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Whether whoever controls `name` published `token`: by DNS TXT first, then by HTTP. */
export async function proveDomain(
  name: string,
  token: string,
  opts: DomainProofOptions = {},
): Promise<ProofResult> {
  if (await dnsProves(name, token, opts)) return { ok: true, method: 'dns' }
  if (await httpProves(name, token, opts)) return { ok: true, method: 'http' }
  return { ok: false }
}
