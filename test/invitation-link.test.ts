import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseInvitation } from '../src/cli/commands/invitations.js'
import { invitationToken, MEMBER_PASSWORD } from './support/members.js'
import { addMember } from './support/members.js'
import { setUpOwner, startPlatform } from './support/platform.js'

test('without the console built, the invitation e-mail link opens a page that names the workspace and role, and answers 404 once used', async (t) => {
  const tp = await startPlatform(t, 'sqlite', {}, { consoleDir: null })
  const { token } = await setUpOwner(tp)
  const inv = await tp.call('POST', '/v1/workspaces/acme/members', {
    token,
    body: { email: 'dev@example.com', role: 'developer' },
  })
  assert.equal(inv.statusCode, 201, inv.body)
  const secret = invitationToken(tp, 'dev@example.com')

  const page = await tp.call('GET', `/invitations/${secret}`)
  assert.equal(page.statusCode, 200, page.body)
  assert.match(String(page.headers['content-type']), /^text\/html/)
  assert.match(page.body, /workspace <b>acme<\/b> as <b>developer<\/b>/)
  assert.match(page.body, /palisade invitations accept/)
  assert.match(String(page.headers['content-security-policy']), /script-src 'sha256-/)
  assert.equal(page.headers['referrer-policy'], 'no-referrer')

  // Owners see the pending invitation next to the members; the page and the listing change nothing.
  const pending = await tp.call('GET', '/v1/workspaces/acme/invitations', { token })
  assert.equal(pending.statusCode, 200, pending.body)
  assert.deepEqual(
    (pending.json() as { items: Array<{ email: string; role: string }> }).items.map((i) => [i.email, i.role]),
    [['dev@example.com', 'developer']],
  )
  const ok = await tp.call('POST', `/v1/invitations/${secret}/accept`, {
    body: { password: MEMBER_PASSWORD },
  })
  assert.equal(ok.statusCode, 201, ok.body)

  const used = await tp.call('GET', `/invitations/${secret}`)
  assert.equal(used.statusCode, 404)
  assert.match(used.body, /unknown, expired or already used/)
  assert.equal((await tp.call('GET', '/invitations/inv_forged0000000000000000')).statusCode, 404)
  const after = await tp.call('GET', '/v1/workspaces/acme/invitations', { token })
  assert.deepEqual((after.json() as { items: unknown[] }).items, [])
})

test('pending invitations are not shown to developers (their addresses are the inviters’ business)', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token } = await setUpOwner(tp)
  const dev = await addMember(tp, token, 'acme', 'dev@example.com', 'developer')
  const res = await tp.call('GET', '/v1/workspaces/acme/invitations', { token: dev.token })
  assert.equal(res.statusCode, 403, res.body)
})

test('the CLI takes an invitation as the e-mailed link or as its bare token', () => {
  const token = 'inv_' + 'a'.repeat(43)
  assert.deepEqual(parseInvitation(`http://127.0.0.1:8080/invitations/${token}`), {
    token,
    apiUrl: 'http://127.0.0.1:8080',
  })
  assert.deepEqual(parseInvitation(`https://paas.example.com/base/invitations/${token}/`), {
    token,
    apiUrl: 'https://paas.example.com/base',
  })
  assert.deepEqual(parseInvitation(token), { token })
  assert.throws(() => parseInvitation('https://example.com/nothing'), /invitation token/)
  assert.throws(() => parseInvitation('not a link'), /invitation link/)
})
