import assert from 'node:assert/strict'
import { test } from 'node:test'
import { invitationToken } from './support/members.js'
import { OWNER, setUpOwner, startPlatform } from './support/platform.js'

/**
 * Issue 17, finding 9: a password from a breach corpus is refused wherever a password is chosen (setup,
 * password change, invitation), besides zxcvbn's strength estimate; checked offline against the bundled list.
 */
const BREACHED = [
  'correcthorsebatterystaple',
  'Correct Horse Battery Staple',
  'qwertyuiop123',
  '1234567890qwerty',
  'passwordpassword',
]

const errorOf = (body: string) =>
  (JSON.parse(body) as { error: { code: string; message: string; details?: Array<{ field: string }> } }).error

test('breached passwords are refused at setup, password change and invitation acceptance, with a clear 400', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  for (const password of BREACHED) {
    const res = await tp.call('POST', '/v1/setup', {
      body: { token: tp.setupToken, email: OWNER.email, password, workspace: 'acme' },
    })
    assert.equal(res.statusCode, 400, `${password}: ${res.body}`)
    const error = errorOf(res.body)
    assert.equal(error.details?.[0]?.field, 'password')
    assert.doesNotMatch(res.body, new RegExp(password, 'i'), 'the password is not echoed')
  }
  const { token, workspaceId } = await setUpOwner(tp)

  const change = await tp.call('POST', '/v1/me/password', {
    token,
    body: { currentPassword: OWNER.password, newPassword: 'correcthorsebatterystaple' },
  })
  assert.equal(change.statusCode, 400, change.body)
  assert.match(errorOf(change.body).message, /breached/)

  assert.equal(
    (
      await tp.call('POST', `/v1/workspaces/${workspaceId}/members`, {
        token,
        body: { email: 'new@example.com', role: 'viewer' },
      })
    ).statusCode,
    201,
  )
  const accept = await tp.call('POST', `/v1/invitations/${invitationToken(tp, 'new@example.com')}/accept`, {
    body: { password: 'correcthorsebatterystaple' },
  })
  assert.equal(accept.statusCode, 400, accept.body)
  assert.match(errorOf(accept.body).message, /breached/)
  // A long, uncommon passphrase still passes.
  const ok = await tp.call('POST', `/v1/invitations/${invitationToken(tp, 'new@example.com')}/accept`, {
    body: { password: 'a sturdy passphrase for a new member 9' },
  })
  assert.equal(ok.statusCode, 201, ok.body)
})
