import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { isPublicAddress } from '../deploy/index.js'

/**
 * Signed webhooks. Every delivery carries
 * - `Palisade-Webhook-Id`: the delivery's id (the same on each retry of it),
 * - `Palisade-Webhook-Timestamp`: Unix seconds when this attempt was sent,
 * - `Palisade-Webhook-Signature`: `v1=` + hex HMAC-SHA256 with the channel's secret over
 *   `<id>.<timestamp>.<body>`.
 * A receiver recomputes the signature (constant-time compare), refuses a timestamp more than
 * `WEBHOOK_REPLAY_WINDOW_S` from its clock, and refuses an id it has seen within that window (a replay).
 */
export const WEBHOOK_REPLAY_WINDOW_S = 300
export const SIGNATURE_HEADER = 'palisade-webhook-signature'
export const TIMESTAMP_HEADER = 'palisade-webhook-timestamp'
export const ID_HEADER = 'palisade-webhook-id'
/** Answer time allowed to a receiver; a slow one is retried later, never waited for. */
const TIMEOUT_MS = 10_000

export function newWebhookSecret(): string {
  return 'whsec_' + randomBytes(32).toString('base64url')
}

export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('hex')
}

/**
 * What a receiver does (exported for receivers written in TypeScript, and for the tests): checks the
 * signature, the timestamp window and that the id is new. `seen` is the receiver's replay memory.
 */
export function verifyWebhook(
  secret: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string,
  nowS: number,
  seen: Map<string, number>,
): { ok: true } | { ok: false; reason: 'signature' | 'timestamp' | 'replay' } {
  const id = headers[ID_HEADER]
  const ts = headers[TIMESTAMP_HEADER]
  const sig = headers[SIGNATURE_HEADER]
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(ts))
    return { ok: false, reason: 'signature' }
  const expected = Buffer.from(signWebhook(secret, id, Number(ts), body))
  const given = Buffer.from(sig)
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'signature' }
  if (Math.abs(nowS - Number(ts)) > WEBHOOK_REPLAY_WINDOW_S) return { ok: false, reason: 'timestamp' }
  for (const [k, at] of seen) if (nowS - at > WEBHOOK_REPLAY_WINDOW_S) seen.delete(k)
  if (seen.has(id)) return { ok: false, reason: 'replay' }
  seen.set(id, nowS)
  return { ok: true }
}

/** Validates a webhook URL (http(s), no credentials, at most 2048 characters); null when acceptable. */
export function webhookUrlProblem(url: string): string | null {
  if (url.length > 2048) return 'must be at most 2048 characters'
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return 'must be an absolute http(s) URL'
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http(s) URL'
  if (u.username !== '' || u.password !== '') return 'must not hold credentials'
  return null
}

export interface PostResult {
  readonly status: number | null
  readonly error: string | null
}

/**
 * POSTs a signed body. The host is resolved once and every address checked (no loopback, private,
 * link-local/metadata, CGNAT…: a webhook must not reach into the platform's network, SSRF), then the
 * connection goes to the checked address (no second lookup: DNS rebinding fails). Redirects are not followed.
 */
export async function postWebhook(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  options: { readonly allowPrivate: boolean },
): Promise<PostResult> {
  const u = new URL(url)
  const host = u.hostname.replace(/^\[|\]$/g, '')
  let address: string
  let family: number
  try {
    if (isIP(host)) {
      address = host
      family = isIP(host)
    } else {
      const all = await lookup(host, { all: true })
      if (all.length === 0) return { status: null, error: 'the host name does not resolve' }
      if (!options.allowPrivate && all.some((a) => !isPublicAddress(a.address)))
        return { status: null, error: 'the host resolves to a non-public address (refused)' }
      address = (all[0] as { address: string }).address
      family = (all[0] as { family: number }).family
    }
  } catch {
    return { status: null, error: 'the host name does not resolve' }
  }
  if (!options.allowPrivate && !isPublicAddress(address))
    return { status: null, error: 'the address is not public (refused)' }
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<PostResult>((resolve) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
        timeout: TIMEOUT_MS,
        // The checked address, whatever form of answer the connection asks for (Node asks for all with
        // autoSelectFamily).
        lookup: ((_h: string, o: { all?: boolean }, cb: (...args: unknown[]) => void) =>
          o.all ? cb(null, [{ address, family }]) : cb(null, address, family)) as never,
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? null, error: null }))
        res.on('error', () => resolve({ status: res.statusCode ?? null, error: 'the answer was cut' }))
      },
    )
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', (err) => resolve({ status: null, error: err.message.slice(0, 200) }))
    req.end(body)
  })
}
