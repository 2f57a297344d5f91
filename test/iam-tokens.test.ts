import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { signRequest } from '../src/iam/index.js'
import { STORE_KINDS, setUpOwner, startPlatform, type TestPlatform } from './support/platform.js'

const PUBLIC = 'http://127.0.0.1:8080'

interface NewToken {
  id: string
  token: string
  scopes: string[]
  expiresAt: string
  signingKey?: string
}

function errorCode(res: { json(): unknown }): string {
  return (res.json() as { error: { code: string } }).error.code
}

async function createToken(
  tp: TestPlatform,
  session: string,
  body: Record<string, unknown>,
): Promise<NewToken> {
  const res = await tp.call('POST', '/v1/me/tokens', { token: session, body })
  assert.equal(res.statusCode, 201, res.body)
  return res.json() as NewToken
}

function signedCall(
  tp: TestPlatform,
  t: NewToken,
  method: 'GET' | 'POST',
  url: string,
  opts: {
    body?: string
    created?: number
    nonce?: string
    key?: Buffer
    bearer?: boolean
    tamper?: (h: Record<string, string>) => Record<string, string>
    sendBody?: string
  } = {},
) {
  const headers = signRequest({
    method,
    url: PUBLIC + url,
    keyId: t.id,
    key: opts.key ?? Buffer.from(t.signingKey as string, 'hex'),
    created: opts.created ?? Math.floor(Date.now() / 1000),
    nonce: opts.nonce ?? randomBytes(12).toString('base64url'),
    ...(opts.body === undefined ? {} : { body: opts.body }),
  })
  const all: Record<string, string> = { ...headers }
  if (opts.bearer !== false) all['authorization'] = `Bearer ${t.token}`
  const payload = opts.sendBody ?? opts.body
  if (payload !== undefined) all['content-type'] = 'application/json'
  return tp.platform.app.inject({
    method,
    url,
    headers: opts.tamper ? opts.tamper(all) : all,
    ...(payload === undefined ? {} : { payload }),
  })
}

for (const kind of STORE_KINDS) {
  describe(`identity: API tokens and signed requests on ${kind}`, () => {
    test('a token is shown once, stored as a hash, scoped, and records its last use', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token: session } = await setUpOwner(tp)
      const created = await createToken(tp, session, { name: 'ci', scopes: ['read'] })
      assert.match(created.token, /^pal_[A-Za-z0-9_-]{43}$/)
      const days = (new Date(created.expiresAt).getTime() - Date.now()) / 86_400_000
      assert.ok(days > 89.9 && days <= 90, 'default lifetime is 90 days')
      const me = await tp.platform.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `Bearer ${created.token}` },
        remoteAddress: '192.0.2.7',
      })
      assert.equal(me.statusCode, 200)
      const list = await tp.call('GET', '/v1/me/tokens', { token: session })
      assert.ok(!list.body.includes(created.token))
      const item = (
        list.json() as { items: Array<{ id: string; lastUsedAt: string | null; lastUsedIp: string | null }> }
      ).items[0]
      assert.equal(item?.id, created.id)
      assert.equal(item?.lastUsedIp, '192.0.2.7')
      assert.ok(item?.lastUsedAt)

      assert.equal(
        (await tp.call('GET', '/v1/workspaces/acme/projects', { token: created.token })).statusCode,
        200,
      )
      const write = await tp.call('POST', '/v1/workspaces/acme/projects', {
        token: created.token,
        body: { name: 'shop' },
      })
      assert.equal(write.statusCode, 403)
      const mint = await tp.call('POST', '/v1/me/tokens', {
        token: created.token,
        body: { name: 'x', scopes: ['admin'] },
      })
      assert.equal(mint.statusCode, 403)
      assert.equal(errorCode(mint), 'session_required')

      assert.equal(
        (
          await tp.call('POST', '/v1/me/tokens', {
            token: session,
            body: { name: 'x', scopes: ['read'], expiresInDays: 0 },
          })
        ).statusCode,
        400,
      )
      assert.equal(
        (
          await tp.call('POST', '/v1/me/tokens', {
            token: session,
            body: { name: 'x', scopes: ['read'], expiresInDays: 366 },
          })
        ).statusCode,
        400,
      )
      assert.equal(
        (await tp.call('POST', '/v1/me/tokens', { token: session, body: { name: 'x', scopes: ['root'] } }))
          .statusCode,
        400,
      )

      assert.equal(
        (await tp.call('DELETE', `/v1/me/tokens/${created.id}`, { token: session })).statusCode,
        204,
      )
      assert.equal((await tp.call('GET', '/v1/me', { token: created.token })).statusCode, 401)
      assert.equal(
        (await tp.call('DELETE', `/v1/me/tokens/${created.id}`, { token: session })).statusCode,
        404,
      )
    })

    test('rotation keeps the old token working during the overlap only', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token: session } = await setUpOwner(tp)
      const first = await createToken(tp, session, { name: 'deploy', scopes: ['deploy'], expiresInDays: 30 })
      const rotated = await tp.call('POST', `/v1/me/tokens/${first.id}/rotate`, {
        token: session,
        body: { overlapHours: 2 },
      })
      assert.equal(rotated.statusCode, 201, rotated.body)
      const second = rotated.json() as NewToken
      assert.notEqual(second.token, first.token)
      assert.deepEqual(second.scopes, ['deploy'])
      assert.equal((await tp.call('GET', '/v1/me', { token: first.token })).statusCode, 200)
      assert.equal((await tp.call('GET', '/v1/me', { token: second.token })).statusCode, 200)
      const items = (
        (await tp.call('GET', '/v1/me/tokens', { token: session })).json() as {
          items: Array<{ id: string; expiresAt: string; replacedBy: string | null }>
        }
      ).items
      const old = items.find((i) => i.id === first.id)
      assert.equal(old?.replacedBy, second.id)
      const left = (new Date(old?.expiresAt as string).getTime() - Date.now()) / 3600_000
      assert.ok(left > 1.9 && left <= 2, `old token ends with the overlap (${left} h left)`)
      assert.equal(
        (await tp.call('POST', `/v1/me/tokens/${first.id}/rotate`, { token: session })).statusCode,
        400,
      )

      const third = (
        await tp.call('POST', `/v1/me/tokens/${second.id}/rotate`, {
          token: session,
          body: { overlapHours: 0 },
        })
      ).json() as NewToken
      assert.equal((await tp.call('GET', '/v1/me', { token: second.token })).statusCode, 401)
      assert.equal((await tp.call('GET', '/v1/me', { token: third.token })).statusCode, 200)
    })

    test('signed requests: a fresh one passes; replayed, stale, altered, forged and revoked ones fail with their own codes', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token: session } = await setUpOwner(tp)
      const signed = await createToken(tp, session, { name: 'robot', scopes: ['write'], signed: true })
      assert.match(signed.signingKey ?? '', /^[0-9a-f]{64}$/)

      const unsigned = await tp.call('GET', '/v1/me', { token: signed.token })
      assert.equal(unsigned.statusCode, 401)
      assert.equal(errorCode(unsigned), 'signature_required')

      const nonce = 'nonce-for-replay-test'
      const fresh = await signedCall(tp, signed, 'GET', '/v1/me', { nonce })
      assert.equal(fresh.statusCode, 200, fresh.body)
      const replay = await signedCall(tp, signed, 'GET', '/v1/me', { nonce })
      assert.equal(replay.statusCode, 401)
      assert.equal(errorCode(replay), 'nonce_replayed')

      const stale = await signedCall(tp, signed, 'GET', '/v1/me', {
        created: Math.floor(Date.now() / 1000) - 301,
      })
      assert.equal(errorCode(stale), 'signature_expired')
      const future = await signedCall(tp, signed, 'GET', '/v1/me', {
        created: Math.floor(Date.now() / 1000) + 301,
      })
      assert.equal(errorCode(future), 'signature_expired')

      const body = JSON.stringify({ name: 'shop' })
      const ok = await signedCall(tp, signed, 'POST', '/v1/workspaces/acme/projects', { body })
      assert.equal(ok.statusCode, 201, ok.body)
      const altered = await signedCall(tp, signed, 'POST', '/v1/workspaces/acme/projects', {
        body: JSON.stringify({ name: 'blog' }),
        sendBody: JSON.stringify({ name: 'evil' }),
      })
      assert.equal(altered.statusCode, 401)
      assert.equal(errorCode(altered), 'digest_mismatch')

      const forged = await signedCall(tp, signed, 'GET', '/v1/me', { key: randomBytes(32) })
      assert.equal(errorCode(forged), 'signature_invalid')
      const movedTarget = await tp.platform.app.inject({
        method: 'GET',
        url: '/v1/me/tokens',
        headers: {
          ...signRequest({
            method: 'GET',
            url: PUBLIC + '/v1/me',
            keyId: signed.id,
            key: Buffer.from(signed.signingKey as string, 'hex'),
            created: Math.floor(Date.now() / 1000),
            nonce: 'moved-target-1',
          }),
        },
      })
      assert.equal(errorCode(movedTarget), 'signature_invalid')

      // The signature alone authenticates (no bearer needed) …
      const keyOnly = await signedCall(tp, signed, 'GET', '/v1/me', { bearer: false })
      assert.equal(keyOnly.statusCode, 200, keyOnly.body)
      // … and stops when the token is revoked.
      assert.equal(
        (await tp.call('DELETE', `/v1/me/tokens/${signed.id}`, { token: session })).statusCode,
        204,
      )
      const revoked = await signedCall(tp, signed, 'GET', '/v1/me', { bearer: false })
      assert.equal(revoked.statusCode, 401)
      assert.equal(errorCode(revoked), 'key_unknown')
      const unknown = await signedCall(tp, { ...signed, id: 'tok_unknown' }, 'GET', '/v1/me', {
        bearer: false,
      })
      assert.equal(errorCode(unknown), 'key_unknown')
    })
  })
}
