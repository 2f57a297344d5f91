/** Hop-by-hop headers (RFC 9110 §7.6.1) plus proxy-only ones: they describe one connection, never the next. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
])

/** Headers about the client that only the edge may set unless the peer is a trusted proxy (spoofing). */
const CLIENT_IDENTITY = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
  'forwarded',
  'x-request-id',
])

/** Lowercased names listed in Connection headers (they are hop-by-hop too). */
function connectionTokens(raw: readonly string[]): Set<string> | null {
  let tokens: Set<string> | null = null
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).length === 10 && (raw[i] as string).toLowerCase() === 'connection') {
      for (const t of (raw[i + 1] as string).split(',')) {
        const name = t.trim().toLowerCase()
        if (name) (tokens ??= new Set()).add(name)
      }
    }
  }
  return tokens
}

/**
 * Copies raw request headers for the upstream, dropping hop-by-hop headers, `Proxy-*`, those named in
 * Connection and, unless the peer is trusted, client-supplied X-Forwarded-* / X-Request-Id.
 * `keepUpgrade` keeps `Upgrade`/`Connection: upgrade` for a WebSocket handshake.
 */
export function forwardRequestHeaders(
  raw: readonly string[],
  trusted: boolean,
  keepUpgrade: boolean,
): string[] {
  const named = connectionTokens(raw)
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-')) {
      if (!(keepUpgrade && lower === 'upgrade')) continue
    } else if (named?.has(lower)) continue
    else if (!trusted && CLIENT_IDENTITY.has(lower)) continue
    else if (trusted && (lower === 'x-forwarded-for' || lower === 'x-request-id'))
      continue // re-set by the edge
    else if (lower === 'content-length') continue // the edge re-frames the buffered body
    out.push(name, raw[i + 1] as string)
  }
  if (keepUpgrade) out.push('Connection', 'upgrade')
  return out
}

/** Copies raw upstream response headers for the client without hop-by-hop ones. */
export function forwardResponseHeaders(raw: readonly string[]): string[] {
  const named = connectionTokens(raw)
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-') || named?.has(lower)) continue
    out.push(name, raw[i + 1] as string)
  }
  return out
}
