import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { totpCode } from '../src/iam/index.js'
import {
  OWNER,
  STORE_KINDS,
  setUpOwner,
  signIn,
  startPlatform,
  type TestPlatform,
} from './support/platform.js'

const NEW_PASSWORD = 'another long passphrase for palisade 7'

function errorCode(res: { json(): unknown }): string {
  return (res.json() as { error: { code: string } }).error.code
}

async function login(tp: TestPlatform, body: Record<string, string>, remoteAddress = '127.0.0.1') {
  return tp.platform.app.inject({ method: 'POST', url: '/v1/sessions', payload: body, remoteAddress })
}

async function enableTotp(
  tp: TestPlatform,
  token: string,
): Promise<{ secret: string; recoveryCodes: string[]; confirmedAt: Date }> {
  const enrol = await tp.call('POST', '/v1/me/totp', { token })
  assert.equal(enrol.statusCode, 201, enrol.body)
  const { secret, uri } = enrol.json() as { secret: string; uri: string }
  assert.match(uri, /^otpauth:\/\/totp\/Palisade:owner%40example\.com\?/)
  const confirmedAt = new Date()
  const confirm = await tp.call('POST', '/v1/me/totp/confirm', {
    token,
    body: { code: totpCode(secret, confirmedAt) },
  })
  assert.equal(confirm.statusCode, 200, confirm.body)
  const { recoveryCodes } = confirm.json() as { recoveryCodes: string[] }
  assert.equal(recoveryCodes.length, 10)
  assert.equal(new Set(recoveryCodes).size, 10)
  return { secret, recoveryCodes, confirmedAt }
}

for (const kind of STORE_KINDS) {
  describe(`identity: account on ${kind}`, () => {
    test('200 wrong passwords are throttled before the 11th try and lock out the right password', async (t) => {
      const tp = await startPlatform(t, kind)
      await setUpOwner(tp)
      const statuses: number[] = []
      for (let i = 0; i < 200; i++) {
        const res = await login(
          tp,
          { email: OWNER.email, password: `wrong password number ${i}` },
          '10.0.0.1',
        )
        statuses.push(res.statusCode)
        if (res.statusCode === 429) {
          assert.ok(Number(res.headers['retry-after']) > 0)
          assert.equal(errorCode(res), 'too_many_attempts')
        }
      }
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401))
      assert.ok(
        statuses.slice(10).every((s) => s === 429),
        'every try after the 10th is refused',
      )
      // The right password is refused while the account is locked, from anywhere.
      const right = await login(tp, OWNER, '10.0.0.2')
      assert.equal(right.statusCode, 429)
      // Another account from another address is not affected.
      const other = await login(
        tp,
        { email: 'nobody@example.com', password: 'whatever it is here' },
        '10.0.0.3',
      )
      assert.equal(other.statusCode, 401)
    })

    test('an unknown account gets the same answers as a known one (no enumeration)', async (t) => {
      const tp = await startPlatform(t, kind)
      await setUpOwner(tp)
      const known: Array<[number, string]> = []
      const unknown: Array<[number, string]> = []
      for (let i = 0; i < 12; i++) {
        const a = await login(tp, { email: OWNER.email, password: 'not the password at all' }, '10.1.0.1')
        const b = await login(
          tp,
          { email: 'ghost@example.com', password: 'not the password at all' },
          '10.1.0.2',
        )
        known.push([a.statusCode, errorCode(a)])
        unknown.push([b.statusCode, errorCode(b)])
      }
      assert.deepEqual(known, unknown)
    })

    test('a successful sign-in clears the failure count', async (t) => {
      const tp = await startPlatform(t, kind)
      await setUpOwner(tp)
      for (let i = 0; i < 9; i++)
        assert.equal((await login(tp, { email: OWNER.email, password: 'wrong wrong wrong' })).statusCode, 401)
      assert.equal((await login(tp, OWNER)).statusCode, 201)
      for (let i = 0; i < 9; i++)
        assert.equal((await login(tp, { email: OWNER.email, password: 'wrong wrong wrong' })).statusCode, 401)
      assert.equal((await login(tp, OWNER)).statusCode, 201)
    })

    test('changing the password needs the current one and ends every other session', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const other = await signIn(tp, OWNER.email, OWNER.password)
      const sessions = (await tp.call('GET', '/v1/me/sessions', { token })).json() as {
        items: Array<{ id: string; current: boolean }>
      }
      assert.equal(sessions.items.length, 2)
      assert.equal(sessions.items.filter((s) => s.current).length, 1)

      const wrong = await tp.call('POST', '/v1/me/password', {
        token,
        body: { currentPassword: 'not it at all', newPassword: NEW_PASSWORD },
      })
      assert.equal(wrong.statusCode, 400)
      assert.equal(errorCode(wrong), 'invalid_credentials')
      const weak = await tp.call('POST', '/v1/me/password', {
        token,
        body: { currentPassword: OWNER.password, newPassword: 'password1234' },
      })
      assert.equal(weak.statusCode, 400)
      const ok = await tp.call('POST', '/v1/me/password', {
        token,
        body: { currentPassword: OWNER.password, newPassword: NEW_PASSWORD },
      })
      assert.equal(ok.statusCode, 204, ok.body)
      assert.equal((await tp.call('GET', '/v1/me', { token })).statusCode, 200)
      assert.equal((await tp.call('GET', '/v1/me', { token: other })).statusCode, 401)
      assert.equal((await login(tp, OWNER)).statusCode, 401)
      assert.equal((await login(tp, { email: OWNER.email, password: NEW_PASSWORD })).statusCode, 201)
    })

    test('a user lists and revokes only their own sessions', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const second = await signIn(tp, OWNER.email, OWNER.password)
      const list = (await tp.call('GET', '/v1/me/sessions', { token: second })).json() as {
        items: Array<{ id: string; current: boolean }>
      }
      const firstId = list.items.find((s) => !s.current)?.id as string
      assert.equal((await tp.call('DELETE', `/v1/me/sessions/${firstId}`, { token: second })).statusCode, 204)
      assert.equal((await tp.call('GET', '/v1/me', { token })).statusCode, 401)
      assert.equal((await tp.call('DELETE', `/v1/me/sessions/${firstId}`, { token: second })).statusCode, 404)
      assert.equal(
        (await tp.call('DELETE', '/v1/me/sessions/ses_doesnotexist', { token: second })).statusCode,
        404,
      )
    })

    test('TOTP: sign-in needs a code, a used code is refused (replay) and a recovery code works once', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const { secret, recoveryCodes, confirmedAt } = await enableTotp(tp, token)
      assert.equal(
        ((await tp.call('GET', '/v1/me', { token })).json() as { totpEnabled: boolean }).totpEnabled,
        true,
      )

      const missing = await login(tp, OWNER)
      assert.equal(missing.statusCode, 401)
      assert.equal(errorCode(missing), 'totp_required')
      // The code used to confirm enrolment is burnt: the same step cannot sign in. (The code of that step, not of
      // "now": a 30 s step may have ended since, and the new step's code is fresh.)
      const replay = await login(tp, { ...OWNER, totp: totpCode(secret, confirmedAt) })
      assert.equal(replay.statusCode, 401)
      assert.equal(errorCode(replay), 'totp_replayed')
      const next = totpCode(secret, new Date(confirmedAt.getTime() + 30_000))
      assert.equal((await login(tp, { ...OWNER, totp: next })).statusCode, 201)
      const again = await login(tp, { ...OWNER, totp: next })
      assert.equal(errorCode(again), 'totp_replayed')
      assert.equal(
        errorCode(await login(tp, { ...OWNER, totp: '000000' === next ? '111111' : '000000' })),
        'invalid_totp',
      )

      const code = recoveryCodes[0] as string
      const viaRecovery = await login(tp, { ...OWNER, totp: code.toUpperCase() })
      assert.equal(viaRecovery.statusCode, 201, viaRecovery.body)
      const session = (viaRecovery.json() as { token: string }).token
      const sessions = (await tp.call('GET', '/v1/me/sessions', { token: session })).json() as {
        items: Array<{ current: boolean; mfa: boolean }>
      }
      assert.equal(sessions.items.find((s) => s.current)?.mfa, true)
      assert.equal(errorCode(await login(tp, { ...OWNER, totp: code })), 'invalid_totp')

      // Turning 2FA off needs proof.
      assert.equal(
        (
          await tp.call('DELETE', '/v1/me/totp', {
            token: session,
            body: { password: 'wrong password here' },
          })
        ).statusCode,
        400,
      )
      assert.equal(
        (await tp.call('DELETE', '/v1/me/totp', { token: session, body: { code: recoveryCodes[1] } }))
          .statusCode,
        204,
      )
      assert.equal((await login(tp, OWNER)).statusCode, 201)
    })

    test('a workspace that requires 2FA refuses members without it and admits a 2FA session', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      assert.equal(
        (await tp.call('PATCH', '/v1/workspaces/acme', { token, body: { requireMfa: true } })).statusCode,
        200,
      )
      const refused = await tp.call('GET', '/v1/workspaces/acme/projects', { token })
      assert.equal(refused.statusCode, 403)
      assert.equal(errorCode(refused), 'mfa_required')
      const { secret } = await enableTotp(tp, token)
      // Confirming upgrades the current session to a 2FA session.
      assert.equal((await tp.call('GET', '/v1/workspaces/acme/projects', { token })).statusCode, 200)
      const fresh = await login(tp, { ...OWNER, totp: totpCode(secret, new Date(Date.now() + 30_000)) })
      assert.equal(
        (
          await tp.call('GET', '/v1/workspaces/acme/projects', {
            token: (fresh.json() as { token: string }).token,
          })
        ).statusCode,
        200,
      )
    })
  })
}
