import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, test } from 'node:test'
import { opensshLine } from '../src/iam/testing.js'
import { addMember, invitationToken, MEMBER_PASSWORD as PASSWORD } from './support/members.js'
import { STORE_KINDS, setUpOwner, signIn, startPlatform } from './support/platform.js'

function errorCode(res: { json(): unknown }): string {
  return (res.json() as { error: { code: string } }).error.code
}

for (const kind of STORE_KINDS) {
  describe(`identity: members, invitations, IP groups and SSH keys on ${kind}`, () => {
    test('an invitation is mailed, accepted once, and creates the user and the membership', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const inv = await tp.call('POST', '/v1/workspaces/acme/members', {
        token,
        body: { email: 'Dev@Example.com', role: 'developer' },
      })
      assert.equal(inv.statusCode, 201, inv.body)
      assert.ok(
        !inv.body.includes('inv_') || !/inv_[A-Za-z0-9_-]{40}/.test(inv.body),
        'the invitation token is not in the API answer',
      )
      const secret = invitationToken(tp, 'dev@example.com')
      const noPassword = await tp.call('POST', `/v1/invitations/${secret}/accept`, { body: {} })
      assert.equal(noPassword.statusCode, 400)
      const weak = await tp.call('POST', `/v1/invitations/${secret}/accept`, {
        body: { password: 'password' },
      })
      assert.equal(weak.statusCode, 400)
      const ok = await tp.call('POST', `/v1/invitations/${secret}/accept`, { body: { password: PASSWORD } })
      assert.equal(ok.statusCode, 201, ok.body)
      const again = await tp.call('POST', `/v1/invitations/${secret}/accept`, {
        body: { password: PASSWORD },
      })
      assert.equal(again.statusCode, 404)
      assert.equal(errorCode(again), 'invitation_invalid')
      const members = (await tp.call('GET', '/v1/workspaces/acme/members', { token })).json() as {
        items: Array<{ email: string; role: string }>
      }
      assert.deepEqual(
        members.items.map((m) => [m.email, m.role]),
        [
          ['dev@example.com', 'developer'],
          ['owner@example.com', 'owner'],
        ],
      )
      const dev = await signIn(tp, 'dev@example.com', PASSWORD)
      assert.equal((await tp.call('GET', '/v1/workspaces/acme/projects', { token: dev })).statusCode, 200)
      const dup = await tp.call('POST', '/v1/workspaces/acme/members', {
        token,
        body: { email: 'dev@example.com', role: 'viewer' },
      })
      assert.equal(dup.statusCode, 409)
    })

    test('an existing user joins another workspace without a new password', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const member = await addMember(tp, token, 'acme', 'viewer@example.com', 'viewer')
      const other = await tp.call('POST', '/v1/workspaces', { token, body: { name: 'globex' } })
      assert.equal(other.statusCode, 201)
      await tp.call('POST', '/v1/workspaces/globex/members', {
        token,
        body: { email: 'viewer@example.com', role: 'admin' },
      })
      const accept = await tp.call(
        'POST',
        `/v1/invitations/${invitationToken(tp, 'viewer@example.com', 'globex')}/accept`,
      )
      assert.equal(accept.statusCode, 201, accept.body)
      assert.equal(accept.json().userId, member.userId)
      assert.equal(
        (await tp.call('GET', '/v1/workspaces/globex/members', { token: member.token })).statusCode,
        200,
      )
    })

    test('the last owner cannot be removed or demoted; admins cannot touch owners', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const ownerId = ((await tp.call('GET', '/v1/me', { token })).json() as { id: string }).id
      const admin = await addMember(tp, token, 'acme', 'admin@example.com', 'admin')
      const dev = await addMember(tp, token, 'acme', 'dev@example.com', 'developer')

      const demote = await tp.call('PATCH', `/v1/workspaces/acme/members/${ownerId}`, {
        token,
        body: { role: 'admin' },
      })
      assert.equal(demote.statusCode, 409)
      assert.equal(errorCode(demote), 'last_owner')
      assert.equal(
        errorCode(await tp.call('DELETE', `/v1/workspaces/acme/members/${ownerId}`, { token })),
        'last_owner',
      )

      assert.equal(
        (
          await tp.call('PATCH', `/v1/workspaces/acme/members/${dev.userId}`, {
            token: admin.token,
            body: { role: 'owner' },
          })
        ).statusCode,
        403,
      )
      assert.equal(
        (
          await tp.call('PATCH', `/v1/workspaces/acme/members/${ownerId}`, {
            token: admin.token,
            body: { role: 'viewer' },
          })
        ).statusCode,
        403,
      )
      assert.equal(
        (await tp.call('DELETE', `/v1/workspaces/acme/members/${ownerId}`, { token: admin.token }))
          .statusCode,
        403,
      )
      assert.equal(
        (
          await tp.call('POST', '/v1/workspaces/acme/members', {
            token: admin.token,
            body: { email: 'boss@example.com', role: 'owner' },
          })
        ).statusCode,
        403,
      )
      const promoted = await tp.call('PATCH', `/v1/workspaces/acme/members/${dev.userId}`, {
        token: admin.token,
        body: { role: 'viewer' },
      })
      assert.equal(promoted.statusCode, 200, promoted.body)
      assert.equal(
        (
          await tp.call('PATCH', `/v1/workspaces/acme/members/${dev.userId}`, {
            token: dev.token,
            body: { role: 'admin' },
          })
        ).statusCode,
        403,
      )

      // With a second owner, the first can step down.
      assert.equal(
        (
          await tp.call('PATCH', `/v1/workspaces/acme/members/${admin.userId}`, {
            token,
            body: { role: 'owner' },
          })
        ).statusCode,
        200,
      )
      assert.equal(
        (await tp.call('PATCH', `/v1/workspaces/acme/members/${ownerId}`, { token, body: { role: 'admin' } }))
          .statusCode,
        200,
      )
      assert.equal(
        (await tp.call('DELETE', `/v1/workspaces/acme/members/${dev.userId}`, { token: admin.token }))
          .statusCode,
        204,
      )
      assert.equal((await tp.call('GET', '/v1/workspaces/acme', { token: dev.token })).statusCode, 404)
    })

    test('IP groups are validated, normalised and kept per workspace', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const created = await tp.call('POST', '/v1/workspaces/acme/ip-groups', {
        token,
        body: { name: 'office', cidrs: ['192.0.2.10/24', '2001:db8::/48'] },
      })
      assert.equal(created.statusCode, 201, created.body)
      const group = created.json() as { id: string; cidrs: string[] }
      assert.deepEqual(group.cidrs, ['192.0.2.0/24', '2001:db8::/48'])
      const bad = await tp.call('POST', '/v1/workspaces/acme/ip-groups', {
        token,
        body: { name: 'vpn', cidrs: ['10.0.0.0/40'] },
      })
      assert.equal(bad.statusCode, 400)
      assert.equal(
        (bad.json() as { error: { details: Array<{ field: string }> } }).error.details[0]?.field,
        'cidrs.0',
      )
      assert.equal(
        (
          await tp.call('POST', '/v1/workspaces/acme/ip-groups', {
            token,
            body: { name: 'office', cidrs: [] },
          })
        ).statusCode,
        409,
      )
      const patched = await tp.call('PATCH', `/v1/workspaces/acme/ip-groups/${group.id}`, {
        token,
        body: { cidrs: ['198.51.100.7'] },
      })
      assert.deepEqual((patched.json() as { cidrs: string[] }).cidrs, ['198.51.100.7/32'])
      assert.deepEqual(await tp.platform.store.db.selectFrom('ip_groups').select('name').execute(), [
        { name: 'office' },
      ])
      assert.equal(
        (await tp.call('DELETE', `/v1/workspaces/acme/ip-groups/${group.id}`, { token })).statusCode,
        204,
      )
      assert.equal((await tp.call('GET', '/v1/workspaces/acme/ip-groups', { token })).json().items.length, 0)
    })

    test('SSH keys are parsed, fingerprinted and never registered twice', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const line = opensshLine(generateKeyPairSync('ed25519').publicKey, 'owner@laptop')
      const added = await tp.call('POST', '/v1/me/ssh-keys', { token, body: { publicKey: line } })
      assert.equal(added.statusCode, 201, added.body)
      const key = added.json() as { id: string; name: string; fingerprint: string; type: string }
      assert.equal(key.name, 'owner@laptop')
      assert.equal(key.type, 'ssh-ed25519')
      assert.match(key.fingerprint, /^SHA256:/)
      const dup = await tp.call('POST', '/v1/me/ssh-keys', {
        token,
        body: { publicKey: line.replace('owner@laptop', 'other'), name: 'again' },
      })
      assert.equal(dup.statusCode, 409)
      const weak = await tp.call('POST', '/v1/me/ssh-keys', {
        token,
        body: { publicKey: opensshLine(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey) },
      })
      assert.equal(weak.statusCode, 400)
      assert.equal((await tp.call('GET', '/v1/me/ssh-keys', { token })).json().items.length, 1)
      assert.equal((await tp.call('DELETE', `/v1/me/ssh-keys/${key.id}`, { token })).statusCode, 204)
      assert.equal((await tp.call('DELETE', `/v1/me/ssh-keys/${key.id}`, { token })).statusCode, 404)
    })
  })
}
