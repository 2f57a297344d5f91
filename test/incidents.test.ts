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
    assert.equal((await tp.call('GET', '/v1/me', { token: dev.token })).statusCode, 401)
    assert.equal((await tp.call('GET', '/v1/me', { token: devToken })).statusCode, 401)
    assert.equal((await tp.call('GET', '/v1/me', { token })).statusCode, 401, "the owner's session ended too")
    assert.equal(
      (await tp.call('GET', '/v1/me', { token: admin.token })).statusCode,
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
