import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { assertOneEvent, countEvents } from './support/audit-events.js'
import { addMember } from './support/members.js'
import { setUpOwner, startPlatform, STORE_KINDS } from './support/platform.js'

interface Report {
  actions: string[]
  restrictedEnvironments: number
  revokedSessions: number
  revokedTokens: number
  withdrawnInvitations: number
  notified: number
}

for (const kind of STORE_KINDS) {
  test(`[${kind}] incidents: restrict, revoke credentials, require 2FA and notify — admins only, one audit event`, async (t) => {
    const tp = await startPlatform(t, kind)
    const { token, workspaceId } = await setUpOwner(tp)
    const project = (
      await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, { token, body: { name: 'shop' } })
    ).json() as { id: string }
    const env = (
      await tp.call('POST', `/v1/projects/${project.id}/environments`, { token, body: { name: 'main' } })
    ).json() as { id: string }
    const dev = await addMember(tp, token, workspaceId, 'dev@example.com', 'developer')
    const admin = await addMember(tp, token, workspaceId, 'admin@example.com', 'admin')
    const devToken = (
      (
        await tp.call('POST', '/v1/me/tokens', {
          token: dev.token,
          body: { name: 'ci', scopes: ['deploy'], expiresInDays: 7 },
        })
      ).json() as {
        token: string
      }
    ).token
    assert.equal(
      (
        await tp.call('POST', `/v1/workspaces/${workspaceId}/members`, {
          token,
          body: { email: 'later@example.com', role: 'viewer' },
        })
      ).statusCode,
      201,
    )
    const call = (as: string, body: unknown) =>
      tp.call('POST', `/v1/workspaces/${workspaceId}/incidents`, { token: as, body })

    // Only owners and admins; another workspace's members see nothing.
    assert.equal((await call(dev.token, { actions: ['notify'], reason: 'x' })).statusCode, 403)
    const other = await tp.call('POST', '/v1/workspaces', { token: dev.token, body: { name: 'devs-own' } })
    const foreign = await tp.call('POST', `/v1/workspaces/${(other.json() as { id: string }).id}/incidents`, {
      token,
      body: { actions: ['notify'], reason: 'x' },
    })
    assert.equal(foreign.statusCode, 404, foreign.body)

    // Bad input: each a 400, nothing done.
    const before = await countEvents(tp.platform)
    for (const body of [
      { actions: [], reason: 'x' },
      { actions: ['shutdown'], reason: 'x' },
      { actions: ['notify', 'notify'], reason: 'x' },
      { actions: ['notify'], reason: '' },
      { actions: ['notify'], reason: 'x'.repeat(1001) },
      { actions: ['notify'], reason: 'x', force: true },
      { reason: 'x' },
    ]) {
      const res = await call(admin.token, body)
      assert.equal(res.statusCode, 400, `${JSON.stringify(body).slice(0, 60)} → ${res.statusCode}`)
    }
    assert.equal(await countEvents(tp.platform), before)

    // The response: the admin's own session survives; every other session and token ends.
    const reason = 'leaked deploy token found in a public gist'
    const res = await call(admin.token, { actions: ['notify', 'revoke-credentials', 'restrict'], reason })
    assert.equal(res.statusCode, 201, res.body)
    await assertOneEvent(tp.platform, 'post /v1/workspaces/{ws}/incidents', res, before, {
      action: 'workspace.incident.create',
      targetId: workspaceId,
    })
    const report = res.json() as Report
    assert.deepEqual(report.actions, ['restrict', 'revoke-credentials', 'notify'])
    assert.equal(report.restrictedEnvironments, 1)
    assert.equal(report.revokedTokens, 1)
    assert.ok(report.revokedSessions >= 2, `owner's and developer's sessions: ${report.revokedSessions}`)
    assert.equal(report.withdrawnInvitations, 1)
    assert.equal(report.notified, 3)
    // Ended for this workspace (401 credentials_revoked); the accounts themselves go on (see the test below).
    const wsUrl = `/v1/workspaces/${workspaceId}`
    for (const [who, cred] of [
      ['developer session', dev.token],
      ['developer token', devToken],
      ['owner session', token],
    ] as const) {
      const res = await tp.call('GET', wsUrl, { token: cred })
      assert.equal(res.statusCode, 401, `${who}: ${res.body}`)
      assert.equal((res.json() as { error: { code: string } }).error.code, 'credentials_revoked')
    }
    assert.equal(
      (await tp.call('GET', wsUrl, { token: admin.token })).statusCode,
      200,
      "the responder's session goes on",
    )
    const status = (
      await tp.call('GET', `/v1/environments/${env.id}/status`, { token: admin.token })
    ).json() as { maintenance: boolean }
    assert.equal(status.maintenance, true, 'restricted: the edge answers 503')
    const outbox = path.join(tp.store.dataDir, 'outbox')
    const mails = readdirSync(outbox).map((f) =>
      readFileSync(path.join(outbox, f), 'utf8').replace(/=\r?\n/g, ''),
    )
    for (const who of ['owner@example.com', 'dev@example.com', 'admin@example.com'])
      assert.ok(
        mails.some((m) => m.includes(`To: ${who}`) && m.includes('leaked deploy token')),
        `${who} was told`,
      )

    // 2FA from now on: the responder without it is stopped at the workspace's door.
    const mfa = await call(admin.token, { actions: ['require-mfa'], reason })
    assert.equal(mfa.statusCode, 201, mfa.body)
    const after = await tp.call('GET', `/v1/workspaces/${workspaceId}`, { token: admin.token })
    assert.equal(after.statusCode, 403)
    assert.equal((after.json() as { error: { code: string } }).error.code, 'mfa_required')
  })
}

test('an incident in workspace B ends access to B only: the same sessions and tokens keep workspace A (no cross-tenant denial of service)', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  // A: acme, owned by its owner. B: globex, where an outsider is owner and acme's owner is a plain member.
  const { token: ownerA, workspaceId: wsA } = await setUpOwner(tp)
  const outsider = await addMember(tp, ownerA, wsA, 'outsider@example.com', 'viewer')
  const b = await tp.call('POST', '/v1/workspaces', { token: outsider.token, body: { name: 'globex' } })
  assert.equal(b.statusCode, 201, b.body)
  const wsB = (b.json() as { id: string }).id
  const invite = await tp.call('POST', `/v1/workspaces/${wsB}/members`, {
    token: outsider.token,
    body: { email: 'owner@example.com', role: 'developer' },
  })
  assert.equal(invite.statusCode, 201, invite.body)
  const { invitationToken } = await import('./support/members.js')
  const accept = await tp.call(
    'POST',
    `/v1/invitations/${invitationToken(tp, 'owner@example.com', 'globex')}/accept`,
    {
      token: ownerA,
      body: {},
    },
  )
  assert.equal(accept.statusCode, 201, accept.body)
  const apiToken = (
    (
      await tp.call('POST', '/v1/me/tokens', { token: ownerA, body: { name: 'ci', scopes: ['admin'] } })
    ).json() as {
      token: string
    }
  ).token
  for (const cred of [ownerA, apiToken]) {
    assert.equal((await tp.call('GET', `/v1/workspaces/${wsB}`, { token: cred })).statusCode, 200)
  }

  // B's owner declares an incident with revoke-credentials.
  const res = await tp.call('POST', `/v1/workspaces/${wsB}/incidents`, {
    token: outsider.token,
    body: { actions: ['revoke-credentials'], reason: 'suspected leak in globex' },
  })
  assert.equal(res.statusCode, 201, res.body)

  for (const [who, cred] of [
    ['session', ownerA],
    ['API token', apiToken],
  ] as const) {
    const inB = await tp.call('GET', `/v1/workspaces/${wsB}/projects`, { token: cred })
    assert.equal(inB.statusCode, 401, `${who} in B: ${inB.body}`)
    assert.equal((inB.json() as { error: { code: string } }).error.code, 'credentials_revoked')
    // A is untouched: reads, writes and membership management still work with the same credential.
    assert.equal((await tp.call('GET', `/v1/workspaces/${wsA}`, { token: cred })).statusCode, 200, who)
    const project = await tp.call('POST', `/v1/workspaces/${wsA}/projects`, {
      token: cred,
      body: { name: who === 'session' ? 'after-incident' : 'after-incident-2' },
    })
    assert.equal(project.statusCode, 201, `${who} writes in A: ${project.body}`)
    assert.equal(
      (await tp.call('GET', '/v1/me', { token: cred })).statusCode,
      200,
      `${who}: the account goes on`,
    )
    const list = (await tp.call('GET', '/v1/workspaces', { token: cred })).json() as {
      items: Array<{ id: string }>
    }
    assert.deepEqual(
      list.items.map((w) => w.id),
      [wsA],
      `${who}: B is no longer listed, A is`,
    )
  }
  // A new sign-in works in B again (that is what "sign in again" means).
  const fresh = await tp.call('POST', '/v1/sessions', {
    body: { email: 'owner@example.com', password: 'correct horse battery staple 42' },
  })
  const freshToken = (fresh.json() as { token: string }).token
  assert.equal((await tp.call('GET', `/v1/workspaces/${wsB}`, { token: freshToken })).statusCode, 200)
})
