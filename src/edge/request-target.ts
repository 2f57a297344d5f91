import { normalizeHost } from './route-table.js'

/** Why a request's target or Host is refused before routing. */
export type TargetRefusal = 'duplicate_host' | 'missing_host' | 'authority_mismatch' | 'bad_target'

export type TargetCheck =
  { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: TargetRefusal }

const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)([^#]*)$/i

/**
 * Checks a request's Host header(s) against its request target and answers the origin-form path to use.
 *
 * Threats: two `Host` headers let the edge route by one while the app reads the other (host confusion, cache
 * poisoning); an absolute-form target (`GET http://other.example/ HTTP/1.1`) naming a different authority than
 * `Host` would be routed by `Host` but read by the app (or a proxy behind it) as a request for the other name.
 * So: exactly one Host on HTTP/1.1, and an absolute-form target must name the same host; it is then
 * rewritten to origin form so that nothing behind the edge sees an authority other than `Host`.
 */
export function checkRequestTarget(
  url: string,
  rawHeaders: readonly string[],
  httpVersion: string,
): TargetCheck {
  let host: string | undefined
  let hosts = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++
      host = rawHeaders[i + 1]
    }
  }
  if (hosts > 1) return { ok: false, reason: 'duplicate_host' }
  if (hosts === 0 && httpVersion !== '1.0') return { ok: false, reason: 'missing_host' }
  if (url.startsWith('/')) return { ok: true, path: url }
  if (url === '*') return { ok: true, path: url }
  const m = ABSOLUTE_FORM.exec(url)
  if (!m) return { ok: false, reason: 'bad_target' }
  const authority = m[1] as string
  const rest = m[2] as string
  // userinfo in a request target is never legitimate (and `a@b` confuses parsers about which is the host)
  if (authority.includes('@')) return { ok: false, reason: 'bad_target' }
  const named = normalizeHost(authority)
  if (named === '' || named !== normalizeHost(host)) return { ok: false, reason: 'authority_mismatch' }
  return { ok: true, path: rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}` }
}
