import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { Clock } from '../shared/clock.js'
import { UnauthenticatedError } from '../shared/errors.js'
import type { ActiveToken } from './api-tokens.js'
import { IAM_ERRORS } from './errors.js'
import type { NonceStore } from './nonce-store.js'
import { parseDictionary, type BareItem, type Item } from './structured-fields.js'

/**
 * HTTP Message Signatures (RFC 9421) with `hmac-sha256`, over at least `@method`, `@target-uri` and
 * `content-digest` (RFC 9530), with `created`, `nonce` and `keyid`. Each refusal has its own code.
 */
export const SIGNATURE_WINDOW_SECONDS = 300
export const REQUIRED_COMPONENTS = ['@method', '@target-uri', 'content-digest'] as const
const NONCE = /^[\x21-\x7e]{8,128}$/

/** A request as the verifier needs it (the API layer builds it from the wire). */
export interface SignedRequest {
  readonly method: string
  /** The request's target URI as the client may have written it (e.g. the public URL and the Host-based one). */
  readonly targetUris: readonly string[]
  /** Lower-case header names → values. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The exact body bytes (empty for none). */
  readonly body: Buffer
}

export interface SignatureVerifierDeps {
  readonly clock: Clock
  readonly nonces: NonceStore
  readonly lookupKey: (keyId: string) => Promise<{ key: Buffer; token: ActiveToken } | undefined>
}

export type SignatureFailure =
  | 'signature_required'
  | 'signature_invalid'
  | 'signature_expired'
  | 'nonce_replayed'
  | 'digest_mismatch'
  | 'key_unknown'

const CODES: Record<SignatureFailure, string> = {
  signature_required: IAM_ERRORS.signatureRequired,
  signature_invalid: IAM_ERRORS.signatureInvalid,
  signature_expired: IAM_ERRORS.signatureExpired,
  nonce_replayed: IAM_ERRORS.nonceReplayed,
  digest_mismatch: IAM_ERRORS.digestMismatch,
  key_unknown: IAM_ERRORS.keyUnknown,
}

function fail(code: SignatureFailure, message: string): never {
  throw new UnauthenticatedError(CODES[code], message, { publicCode: code })
}

function header(req: SignedRequest, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

/** `Content-Digest` value for a body (RFC 9530, sha-256). */
export function contentDigest(body: Buffer | string): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`
}

/** The signature base (RFC 9421 §2.5) for the covered components and the serialized parameters. */
export function signatureBase(
  components: readonly string[],
  value: (component: string) => string | undefined,
  signatureParams: string,
): string | undefined {
  const lines: string[] = []
  for (const c of components) {
    const v = value(c)
    if (v === undefined) return undefined
    lines.push(`"${c}": ${v}`)
  }
  lines.push(`"@signature-params": ${signatureParams}`)
  return lines.join('\n')
}

/** Client side: the three headers of a signed request. Used by the CLI, the tests and the benchmark. */
export function signRequest(input: {
  method: string
  url: string
  body?: string | Buffer
  keyId: string
  key: Buffer
  created: number
  nonce: string
}): Record<string, string> {
  const digest = contentDigest(input.body ?? '')
  const params = `(${REQUIRED_COMPONENTS.map((c) => `"${c}"`).join(' ')});created=${input.created};nonce="${input.nonce}";keyid="${input.keyId}";alg="hmac-sha256"`
  const values: Record<string, string> = {
    '@method': input.method.toUpperCase(),
    '@target-uri': input.url,
    'content-digest': digest,
  }
  const base = signatureBase(REQUIRED_COMPONENTS, (c) => values[c], params) as string
  const sig = createHmac('sha256', input.key).update(base).digest('base64')
  return { 'content-digest': digest, 'signature-input': `sig1=${params}`, signature: `sig1=:${sig}:` }
}

const str = (v: BareItem | undefined): string | undefined => (typeof v === 'string' ? v : undefined)

export function createSignatureVerifier(deps: SignatureVerifierDeps) {
  const { clock, nonces, lookupKey } = deps

  function checkDigest(req: SignedRequest): void {
    const field = header(req, 'content-digest')
    if (field === undefined) fail('digest_mismatch', 'Content-Digest is missing')
    const dict = parseDictionary(field)
    if (!dict) fail('digest_mismatch', 'Content-Digest is not a valid structured field')
    let checked = 0
    for (const [alg, hash] of [
      ['sha-256', 'sha256'],
      ['sha-512', 'sha512'],
    ] as const) {
      const m = dict.get(alg)
      if (!m) continue
      if (!(m.value instanceof Uint8Array))
        fail('digest_mismatch', 'Content-Digest value is not a byte sequence')
      const actual = createHash(hash).update(req.body).digest()
      if (m.value.length !== actual.length || !timingSafeEqual(m.value, actual))
        fail('digest_mismatch', 'the body does not match Content-Digest')
      checked++
    }
    if (checked === 0) fail('digest_mismatch', 'Content-Digest needs a sha-256 or sha-512 digest')
  }

  return {
    /** Verifies the request's signature and returns the token whose key signed it; throws with the failure's own code. */
    async verify(req: SignedRequest): Promise<ActiveToken> {
      const inputField = header(req, 'signature-input')
      const sigField = header(req, 'signature')
      if (inputField === undefined || sigField === undefined)
        fail('signature_required', 'this request must carry Signature-Input and Signature (RFC 9421)')
      const inputs = parseDictionary(inputField)
      const sigs = parseDictionary(sigField)
      if (!inputs || !sigs)
        fail('signature_invalid', 'Signature-Input or Signature is not a valid structured field')
      const first = [...inputs.entries()][0]
      if (!first) fail('signature_invalid', 'Signature-Input has no signature')
      const [label, member] = first
      const sig = sigs.get(label)
      if (!sig || !(sig.value instanceof Uint8Array))
        fail('signature_invalid', `Signature has no byte sequence labelled ${label}`)
      if (!Array.isArray(member.value))
        fail('signature_invalid', 'Signature-Input member is not an inner list')
      const components: string[] = []
      for (const item of member.value as readonly Item[]) {
        if (typeof item.value !== 'string' || item.params.size > 0)
          fail('signature_invalid', 'covered components must be plain strings')
        const name = item.value
        if (
          components.includes(name) ||
          (name.startsWith('@') && name !== '@method' && name !== '@target-uri') ||
          !/^[@a-z0-9-]+$/.test(name)
        ) {
          fail('signature_invalid', `component ${name} is not supported`)
        }
        components.push(name)
      }
      for (const c of REQUIRED_COMPONENTS)
        if (!components.includes(c))
          fail('signature_invalid', `the signature must cover ${REQUIRED_COMPONENTS.join(', ')}`)
      const alg = member.params.get('alg')
      if (alg !== undefined && alg !== 'hmac-sha256') fail('signature_invalid', 'alg must be hmac-sha256')
      const created = member.params.get('created')
      const nonce = str(member.params.get('nonce'))
      const keyId = str(member.params.get('keyid'))
      if (typeof created !== 'number' || nonce === undefined || keyId === undefined)
        fail('signature_invalid', 'created, nonce and keyid parameters are required')
      if (!NONCE.test(nonce)) fail('signature_invalid', 'nonce must be 8–128 visible characters')

      const now = Math.floor(clock.now().getTime() / 1000)
      const expires = member.params.get('expires')
      if (
        Math.abs(now - created) > SIGNATURE_WINDOW_SECONDS ||
        (typeof expires === 'number' && now > expires)
      ) {
        fail('signature_expired', `created must be within ${SIGNATURE_WINDOW_SECONDS} s of the server's time`)
      }

      const found = await lookupKey(keyId)
      if (!found) fail('key_unknown', 'keyid is unknown, revoked or expired')
      checkDigest(req)

      const value = (c: string): string | undefined =>
        c === '@method' ? req.method.toUpperCase() : header(req, c)?.trim()
      let ok = false
      for (const uri of req.targetUris) {
        const base = signatureBase(components, (c) => (c === '@target-uri' ? uri : value(c)), member.raw)
        if (base === undefined) fail('signature_invalid', 'a covered header is missing')
        const expected = createHmac('sha256', found.key).update(base).digest()
        // Constant-time: a byte-by-byte comparison would leak how much of a forged MAC is right.
        if (sig.value.length === expected.length && timingSafeEqual(sig.value, expected)) ok = true
      }
      if (!ok) fail('signature_invalid', 'signature does not verify')
      // Claimed only after the MAC verified: nobody without the key can burn someone else's nonces.
      if (!(await nonces.claim(keyId, nonce, 2 * SIGNATURE_WINDOW_SECONDS)))
        fail('nonce_replayed', 'this nonce was already used')
      return found.token
    },
  }
}

export type SignatureVerifier = ReturnType<typeof createSignatureVerifier>
