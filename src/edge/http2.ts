import type { IncomingMessage } from 'node:http'
import { constants, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2'
import { RapidResetDetector } from './rapid-reset-detector.js'
import { normalizeHost } from './route-table.js'

/**
 * HTTP/2 limits of the HTTPS listener. Threats: a client opening and cancelling streams as fast as it can
 * (rapid reset, CVE-2023-44487), a client holding many streams open, or sending a huge header list (HPACK
 * bombs).
 */
export const HTTP2_LIMITS = Object.freeze({
  maxConcurrentStreams: 100,
  /** Memory a session may use for its frames and headers, MB (Node's default is 10). */
  maxSessionMemoryMb: 10,
  /** Header fields per request, pseudo-headers included. */
  maxHeaderListPairs: 128,
  /**
   * The edge's own rapid-reset guard (`guardAgainstRapidReset`): a session is closed once its client has
   * cancelled 200 streams and those are half or more of the streams it opened (Envoy closes at 50% of 500;
   * Netty allows 200 resets per 30 s). Counts, not a rate, so the flood is stopped after at most 200 streams
   * however loaded the edge is. A browser cancels a handful (a page left, a search typed ahead); a proxy
   * multiplexing many visitors cancels more, but never half of what it sends.
   */
  rapidReset: Object.freeze({ minCancelledStreams: 200, maxCancelledShare: 0.5 }),
  /**
   * Node's own defences, kept as a second layer: streams refused because the session was already at
   * maxConcurrentStreams (this trips only when the edge falls behind, so it depends on rate), and frames
   * nghttp2 finds invalid. nghttp2 also closes a session resetting more than 1 000 streams at once or 33 per
   * second after that.
   */
  maxSessionRejectedStreams: 100,
  maxSessionInvalidFrames: 100,
})

/**
 * Closes an HTTP/2 session whose client cancels streams as fast as it opens them (rapid reset,
 * CVE-2023-44487): each cancelled stream still costs the edge its routing, WAF and upstream work while the
 * client's concurrent-stream limit never fills. Sends GOAWAY with ENHANCE_YOUR_CALM, then cuts the
 * connection; `onFlood` runs once, before.
 */
export function guardAgainstRapidReset(session: ServerHttp2Session, onFlood: () => void): void {
  const detector = new RapidResetDetector(HTTP2_LIMITS.rapidReset)
  const cancelled = (): void => {
    if (!detector.streamCancelled() || session.destroyed) return
    onFlood()
    // destroy() sends the final GOAWAY itself, with this code (without an error it would say NO_ERROR).
    session.destroy(new Error('HTTP/2 rapid reset'), constants.NGHTTP2_ENHANCE_YOUR_CALM)
  }
  session.on('stream', (stream: ServerHttp2Stream) => {
    if (session.destroyed) return
    detector.streamOpened()
    // This event comes before nghttp2 reads further frames, so normally the client's RST_STREAM is seen
    // below; a stream aborted already was cancelled before the edge could answer it.
    if (stream.aborted) cancelled()
    else
      stream.once('aborted', () => {
        // The edge's own resets (`res.destroy()`, a closing session) destroy the stream before it aborts;
        // the client's RST_STREAM aborts it first.
        if (!stream.destroyed) cancelled()
      })
  })
}

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
