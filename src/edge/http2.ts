import type { IncomingMessage } from 'node:http'
import { normalizeHost } from './route-table.js'

/**
 * HTTP/2 limits of the HTTPS listener. Threats: a client opening and cancelling streams as fast as it can
 * (rapid reset, CVE-2023-44487: Node 20 closes such sessions itself once they exceed its rejected-stream and
 * invalid-frame budgets), a client holding many streams open, or sending a huge header list (HPACK bombs).
 */
export const HTTP2_LIMITS = Object.freeze({
  maxConcurrentStreams: 100,
  /** Memory a session may use for its frames and headers, MB (Node's default is 10). */
  maxSessionMemoryMb: 10,
  /** Header fields per request, pseudo-headers included. */
  maxHeaderListPairs: 128,
  /** Streams a session may have refused or reset before it is closed (Node's rapid-reset defence). */
  maxSessionRejectedStreams: 100,
  maxSessionInvalidFrames: 100,
})

/**
 * Gives an HTTP/2 request the shape the pipeline reads from HTTP/1.1: its header list without the
 * pseudo-headers, and `:authority` as `Host`. When the client sent both and they disagree, both stay in
 * the list so that the target check refuses the request as a duplicate Host (the app must never read a
 * different host from the one the edge routed by).
 */
export function adaptHttp2Request(req: IncomingMessage): void {
  if (req.httpVersionMajor !== 2) return
  const raw = req.rawHeaders
  const plain: string[] = []
  let authority: string | undefined
  let host: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    if (name.startsWith(':')) {
      if (name === ':authority') authority = value
      continue
    }
    if (name.toLowerCase() === 'host') host = value
    plain.push(name, value)
  }
  if (authority !== undefined && (host === undefined || normalizeHost(host) !== normalizeHost(authority)))
    plain.unshift('host', authority)
  Object.defineProperty(req, 'rawHeaders', { value: plain, configurable: true })
  if (req.headers.host === undefined && authority !== undefined) req.headers.host = authority
}

/**
 * Whether an HTTP/2 request has a body coming: it needs no Content-Length; a HEADERS frame without
 * END_STREAM announces data. (Reading it is what lets the WAF see a body sent without a length.)
 */
export function http2HasBody(req: IncomingMessage): boolean {
  if (req.httpVersionMajor !== 2) return false
  const stream = (req as IncomingMessage & { stream?: { endAfterHeaders?: boolean } }).stream
  return stream?.endAfterHeaders !== true
}
