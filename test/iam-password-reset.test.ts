import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { totpCode } from '../src/iam/index.js'
import { maskSecretsInUrl } from '../src/api/routes/invitation-routes.js'
import { parseResetToken } from '../src/cli/commands/account.js'
import { RESET_AUDITED } from './support/audit-elsewhere.js'
import { OWNER, setUpOwner, signIn, startPlatform, type TestPlatform } from './support/platform.js'

const NEW_PASSWORD = 'a brand new passphrase for the owner 77'

interface ErrorView {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> }
}

function outbox(tp: TestPlatform): string[] {
  const dir = path.join(tp.store.dataDir, 'outbox')
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .sort()
    .map((f) =>
      readFileSync(path.join(dir, f), 'utf8')
        .replace(/=\r?\n/g, '')
        .replace(/=3D/g, '='),
    )
}

/** Waits (by polling, bounded by count) until the outbox holds `n` reset mails; the mail is sent after the answer. */
async function resetMails(tp: TestPlatform, n: number): Promise<string[]> {
  for (let i = 0; i < 400; i++) {
    const mails = outbox(tp).filter((m) => m.includes('Reset your Palisade password'))
    if (mails.length >= n) return mails
    await new Promise((r) => setTimeout(r, 25))
  }
  return outbox(tp).filter((m) => m.includes('Reset your Palisade password'))
}

const tokenOf = (mail: string): string => {
  const m = /http:\/\/127\.0\.0\.1:8080\/password-reset\/(prt_[A-Za-z0-9]+\.[A-Za-z0-9_-]+)/.exec(mail)
  assert.ok(m, 'the mail holds the reset link')
  return m[1] as string
}

async function eventsOf(tp: TestPlatform, action: string) {
  return tp.platform.store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('action', '=', action)
    .orderBy('at')
    .execute()
}

test('a forgotten password is reset by a mailed single-use link; every session ends; unknown addresses look the same', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token: session } = await setUpOwner(tp)
  const called = new Set<string>()

  // The same answer for an unknown and a known address, and mail only for the known one.
  const unknown = await tp.call('POST', '/v1/password-reset', { body: { email: 'nobody@example.com' } })
  const known = await tp.call('POST', '/v1/password-reset', { body: { email: 'Owner@Example.com ' } })
  called.add('post /v1/password-reset')
  assert.equal(unknown.statusCode, 202, unknown.body)
  assert.equal(known.statusCode, 202, known.body)
  assert.equal(unknown.body, known.body)
  const mails = await resetMails(tp, 1)
  assert.equal(mails.length, 1, 'one mail, to the existing account only')
  const mail = mails[0] as string
  assert.match(mail, /To: owner@example\.com/)
  assert.match(mail, /within 30 minutes/)
  const token = tokenOf(mail)
  assert.equal(parseResetToken(`http://127.0.0.1:8080/password-reset/${token}`), token)
  const [requested] = await eventsOf(tp, 'user.password.reset.request')
  assert.ok(requested, 'the request is audited')
  assert.ok(!JSON.stringify(requested).includes(token.split('.')[1] as string), 'no secret in the audit log')
  const stored = await tp.platform.store.db.selectFrom('password_resets').selectAll().execute()
  assert.equal(stored.length, 1)
  assert.ok(!stored[0]?.token_hash.includes(token.split('.')[1] as string), 'the token is stored hashed')

  // The link opens a page (the token is not echoed into it) and is masked in request logs.
  const page = await tp.call('GET', `/password-reset/${token}`)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /Choose a new password/)
  assert.ok(!page.body.includes(token))
  assert.equal(maskSecretsInUrl(`/password-reset/${token}`), '/password-reset/[masked]')
  assert.equal(maskSecretsInUrl('/v1/password-reset/confirm'), '/v1/password-reset/confirm')

  // A breached or short password is refused as at set-up, and the token stays usable.
  const weak = await tp.call('POST', '/v1/password-reset/confirm', {
    body: { token, password: 'correcthorsebatterystaple' },
  })
  assert.equal(weak.statusCode, 400, weak.body)
  assert.equal((weak.json() as ErrorView).error.details?.[0]?.field, 'password')
  // A wrong secret with the right id, and a made-up token: the same refusal.
  const forged = `${token.split('.')[0]}.${'A'.repeat(43)}`
  for (const bad of [forged, 'prt_nothing.' + 'B'.repeat(43), 'garbage']) {
    const r = await tp.call('POST', '/v1/password-reset/confirm', {
      body: { token: bad, password: NEW_PASSWORD },
    })
    assert.equal(r.statusCode, 400, r.body)
    assert.equal((r.json() as ErrorView).error.code, 'reset_token_invalid')
    assert.match((r.json() as ErrorView).error.message, /palisade password reset/)
  }

  const ok = await tp.call('POST', '/v1/password-reset/confirm', { body: { token, password: NEW_PASSWORD } })
  called.add('post /v1/password-reset/confirm')
  assert.equal(ok.statusCode, 200, ok.body)
  assert.deepEqual(ok.json(), { email: OWNER.email })
  // Every session of the user ended; the old password no longer works, the new one does.
  assert.equal((await tp.call('GET', '/v1/me', { token: session })).statusCode, 401)
  assert.equal(
    (await tp.call('POST', '/v1/sessions', { body: { email: OWNER.email, password: OWNER.password } }))
      .statusCode,
    401,
  )
  await signIn(tp, OWNER.email, NEW_PASSWORD)
  // Single use.
  const again = await tp.call('POST', '/v1/password-reset/confirm', {
    body: { token, password: 'yet another passphrase for the owner 88' },
  })
  assert.equal(again.statusCode, 400, again.body)
  const [reset] = await eventsOf(tp, 'user.password.reset')
  assert.ok(reset)
  assert.equal(reset.outcome, 'success')
  assert.match(reset.changes, /sessionsRevoked/)

  // A newer request retires the older link; an expired link is refused.
  await tp.call('POST', '/v1/password-reset', { body: { email: OWNER.email } })
  const first = tokenOf((await resetMails(tp, 2))[1] as string)
  await tp.call('POST', '/v1/password-reset', { body: { email: OWNER.email } })
  const second = tokenOf((await resetMails(tp, 3))[2] as string)
  const retired = await tp.call('POST', '/v1/password-reset/confirm', {
    body: { token: first, password: 'yet another passphrase for the owner 88' },
  })
  assert.equal(retired.statusCode, 400, retired.body)
  await tp.platform.store.db
    .updateTable('password_resets')
    .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
    .where('id', '=', second.split('.')[0] as string)
    .execute()
  const expired = await tp.call('POST', '/v1/password-reset/confirm', {
    body: { token: second, password: 'yet another passphrase for the owner 88' },
  })
  assert.equal(expired.statusCode, 400, expired.body)

  // Throttled per address: the fourth request within the hour is refused with Retry-After.
  const throttled = await tp.call('POST', '/v1/password-reset', { body: { email: OWNER.email } })
  assert.equal(throttled.statusCode, 429, throttled.body)
  assert.ok(Number(throttled.headers['retry-after']) > 0)

  // 2FA recovery codes are renewed with 2FA staying on.
  const token2 = await signIn(tp, OWNER.email, NEW_PASSWORD)
  const enrol = (await tp.call('POST', '/v1/me/totp', { token: token2 })).json() as { secret: string }
  const step = (k: number) => totpCode(enrol.secret, new Date(Date.now() + k * 30_000))
  const confirmed = await tp.call('POST', '/v1/me/totp/confirm', { token: token2, body: { code: step(0) } })
  assert.equal(confirmed.statusCode, 200, confirmed.body)
  const oldCodes = (confirmed.json() as { recoveryCodes: string[] }).recoveryCodes
  // A recovery code does not renew the codes; a wrong code is refused and audited as a failure.
  const withRecovery = await tp.call('POST', '/v1/me/totp/recovery-codes', {
    token: token2,
    body: { code: oldCodes[0] },
  })
  assert.equal(withRecovery.statusCode, 400, withRecovery.body)
  const renewed = await tp.call('POST', '/v1/me/totp/recovery-codes', {
    token: token2,
    body: { code: step(1) },
  })
  called.add('post /v1/me/totp/recovery-codes')
  assert.equal(renewed.statusCode, 200, renewed.body)
  const newCodes = (renewed.json() as { recoveryCodes: string[] }).recoveryCodes
  assert.equal(newCodes.length, 10)
  assert.ok(newCodes.every((c) => !oldCodes.includes(c)))
  const me = (await tp.call('GET', '/v1/me', { token: token2 })).json() as { totpEnabled: boolean }
  assert.equal(me.totpEnabled, true, '2FA stays on')
  const signInWith = (totp: string) =>
    tp.call('POST', '/v1/sessions', { body: { email: OWNER.email, password: NEW_PASSWORD, totp } })
  assert.equal((await signInWith(oldCodes[1] as string)).statusCode, 401, 'old recovery codes stop working')
  assert.equal((await signInWith(newCodes[0] as string)).statusCode, 201, 'the new ones work')
  const regenerated = await eventsOf(tp, 'user.totp.recovery-codes.regenerate')
  assert.deepEqual(
    regenerated.map((e) => e.outcome),
    ['failure', 'success'],
  )

  assert.deepEqual(
    [...called].sort(),
    [...RESET_AUDITED].sort(),
    'every route of RESET_AUDITED was called here',
  )
})
