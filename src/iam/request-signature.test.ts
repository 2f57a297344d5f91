import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, test } from 'node:test'
import { fixedClock } from '../shared/clock.js'
import type { ActiveToken } from './api-tokens.js'
import { createMemoryNonceStore } from './nonce-store.js'
import {
  contentDigest,
  createSignatureVerifier,
  signatureBase,
  signRequest,
  type SignedRequest,
} from './request-signature.js'

const KEY = Buffer.alloc(32, 7)
const TOKEN: ActiveToken = {
  id: 'tok_test',
  userId: 'usr_1',
  email: 'a@example.com',
  scopes: ['read'],
  mfa: false,
  signed: true,
}
const NOW = new Date('2026-05-01T12:00:00Z')
const CREATED = Math.floor(NOW.getTime() / 1000)
const URL_ = 'https://api.example.com/v1/decide?x=1'

function setup() {
  const clock = fixedClock(NOW)
  const revoked = new Set<string>()
  const verifier = createSignatureVerifier({
    clock,
    nonces: createMemoryNonceStore(clock),
    lookupKey: async (id) => (id === TOKEN.id && !revoked.has(id) ? { key: KEY, token: TOKEN } : undefined),
  })
  return { clock, revoked, verifier }
}

function request(
  overrides: Partial<{
    nonce: string
    created: number
    body: string
    sentBody: string
    key: Buffer
    headers: Record<string, string>
  }> = {},
): SignedRequest {
  const body = overrides.body ?? '{"a":1}'
  const headers = signRequest({
    method: 'POST',
    url: URL_,
    body,
    keyId: TOKEN.id,
    key: overrides.key ?? KEY,
    created: overrides.created ?? CREATED,
    nonce: overrides.nonce ?? 'nonce-0001',
  })
  return {
    method: 'POST',
    targetUris: [URL_],
    headers: { ...headers, ...overrides.headers },
    body: Buffer.from(overrides.sentBody ?? body),
  }
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (e) {
    return (e as { publicCode: string }).publicCode
  }
}

describe('RFC 9421 signature verification', () => {
  test('the signature base follows RFC 9421 §2.5 and the digest RFC 9530', () => {
    assert.equal(
      contentDigest('{"hello": "world"}'),
      'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
    )
    const base = signatureBase(
      ['@method', 'content-digest'],
      (c) => ({ '@method': 'POST', 'content-digest': 'sha-256=:x:' })[c],
      '("@method" "content-digest");created=1',
    )
    assert.equal(
      base,
      '"@method": POST\n"content-digest": sha-256=:x:\n"@signature-params": ("@method" "content-digest");created=1',
    )
  })

  test('a fresh request verifies and names its token', async () => {
    const { verifier } = setup()
    assert.deepEqual(await verifier.verify(request()), TOKEN)
  })

  test('each attack gets its own code', async () => {
    const { verifier, revoked } = setup()
    assert.equal(await code(verifier.verify(request({ nonce: 'nonce-replay' }))), 'ok')
    assert.equal(await code(verifier.verify(request({ nonce: 'nonce-replay' }))), 'nonce_replayed')
    assert.equal(await code(verifier.verify(request({ created: CREATED - 301 }))), 'signature_expired')
    assert.equal(await code(verifier.verify(request({ created: CREATED + 301 }))), 'signature_expired')
    assert.equal(
      await code(verifier.verify(request({ created: CREATED - 300, nonce: 'edge-of-window' }))),
      'ok',
    )
    assert.equal(await code(verifier.verify(request({ sentBody: '{"a":2}' }))), 'digest_mismatch')
    assert.equal(await code(verifier.verify(request({ key: Buffer.alloc(32, 8) }))), 'signature_invalid')
    assert.equal(
      await code(
        verifier.verify({
          ...request({ nonce: 'other-uri-1' }),
          targetUris: ['https://api.example.com/v1/other'],
        }),
      ),
      'signature_invalid',
    )
    assert.equal(
      await code(verifier.verify({ ...request({ nonce: 'other-method' }), method: 'PUT' })),
      'signature_invalid',
    )
    assert.equal(
      await code(verifier.verify({ method: 'POST', targetUris: [URL_], headers: {}, body: Buffer.alloc(0) })),
      'signature_required',
    )
    revoked.add(TOKEN.id)
    assert.equal(await code(verifier.verify(request({ nonce: 'after-revoke' }))), 'key_unknown')
  })

  test('a forged signature does not burn the nonce of the real request', async () => {
    const { verifier } = setup()
    assert.equal(
      await code(verifier.verify(request({ nonce: 'victim-nonce', key: Buffer.alloc(32, 9) }))),
      'signature_invalid',
    )
    assert.equal(await code(verifier.verify(request({ nonce: 'victim-nonce' }))), 'ok')
  })

  test('the signature must cover method, target URI and digest, with hmac-sha256', async () => {
    const { verifier } = setup()
    const params =
      '("@method" "content-digest");created=' + CREATED + ';nonce="nonce-partial";keyid="tok_test"'
    const base = `"@method": POST\n"content-digest": ${contentDigest('{}')}\n"@signature-params": ${params}`
    const sig = createHmac('sha256', KEY).update(base).digest('base64')
    const partial: SignedRequest = {
      method: 'POST',
      targetUris: [URL_],
      headers: {
        'content-digest': contentDigest('{}'),
        'signature-input': `sig1=${params}`,
        signature: `sig1=:${sig}:`,
      },
      body: Buffer.from('{}'),
    }
    assert.equal(await code(verifier.verify(partial)), 'signature_invalid')
    const wrongAlg = request({ nonce: 'nonce-alg' })
    const input = String(wrongAlg.headers['signature-input']).replace(
      'alg="hmac-sha256"',
      'alg="rsa-pss-sha512"',
    )
    assert.equal(
      await code(
        verifier.verify({ ...wrongAlg, headers: { ...wrongAlg.headers, 'signature-input': input } }),
      ),
      'signature_invalid',
    )
  })

  test('malformed structured fields are refused, not guessed', async () => {
    const { verifier } = setup()
    for (const bad of [
      'sig1=("@method"',
      'sig1=("@method" "@target-uri" "content-digest");created=1.5',
      '=x',
      'sig1=("@method");nonce="\u0001"',
    ]) {
      assert.equal(
        await code(verifier.verify(request({ headers: { 'signature-input': bad } }))),
        'signature_invalid',
        bad,
      )
    }
  })
})
