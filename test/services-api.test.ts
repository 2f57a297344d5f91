import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { STORE_KINDS, setUpOwner, startPlatform } from './support/platform.js'
import { createEnvironment, removeSandboxes, waitForStatus } from './services-helpers.js'

for (const kind of STORE_KINDS) {
  describe(`services API on ${kind}`, () => {
    test('a service is provisioned, listed, described, its credentials read only on purpose, and deleted', async (t) => {
      const tp = await startPlatform(t, kind)
      t.after(() => removeSandboxes())
      const { token, workspaceId } = await setUpOwner(tp)
      const envId = await createEnvironment(tp, token, workspaceId, 'shop')

      const res = await tp.call('POST', `/v1/environments/${envId}/services`, {
        token,
        body: { type: 'redis', name: 'cache', version: '7' },
      })
      assert.equal(res.statusCode, 201, res.body)
      const created = res.json() as {
        id: string
        status: string
        type: string
        name: string
        version: string
      }
      assert.equal(created.status, 'provisioning')
      assert.deepEqual([created.type, created.name], ['redis', 'cache'])
      assert.match(created.version, /^7\.\d+$/)
      const running = await waitForStatus(tp, token, created.id, 'running')
      assert.equal(running.process?.state, 'running')

      const dup = await tp.call('POST', `/v1/environments/${envId}/services`, {
        token,
        body: { type: 'redis', name: 'cache' },
      })
      assert.equal(dup.statusCode, 409)

      const list = (await tp.call('GET', `/v1/environments/${envId}/services`, { token })).json() as {
        items: Array<{ id: string }>
        nextCursor: null
      }
      assert.deepEqual(
        list.items.map((s) => s.id),
        [created.id],
      )
      assert.equal(list.nextCursor, null)

      const creds = await tp.call('GET', `/v1/services/${created.id}/credentials`, { token })
      assert.equal(creds.statusCode, 200)
      const c = creds.json() as { password: string; url: string; variables: Record<string, string> }
      assert.match(c.password, /^[a-z0-9]{32}$/)
      assert.equal(c.variables['SERVICE_CACHE_URL'], c.url)
      // The password shows up in no other answer and in no audit event.
      for (const url of [`/v1/services/${created.id}`, `/v1/environments/${envId}/services`]) {
        assert.ok(!(await tp.call('GET', url, { token })).body.includes(c.password), url)
      }
      const events = await tp.platform.store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('target_id', '=', created.id)
        .orderBy('seq')
        .execute()
      assert.deepEqual(
        events.map((e) => e.action),
        ['environment.service.create', 'environment.service.credentials.read'],
      )
      assert.ok(!JSON.stringify(events).includes(c.password))

      assert.equal(
        (await tp.call('DELETE', `/v1/services/${created.id}?deleteData=true`, { token })).statusCode,
        204,
      )
      assert.equal((await tp.call('GET', `/v1/services/${created.id}`, { token })).statusCode, 404)
      const last = await tp.platform.store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('target_id', '=', created.id)
        .orderBy('seq', 'desc')
        .executeTakeFirstOrThrow()
      assert.equal(last.action, 'environment.service.delete')

      // Deleting the environment: its servers stop and their data goes.
      const other = (
        await tp.call('POST', `/v1/environments/${envId}/services`, {
          token,
          body: { type: 'redis', name: 'other' },
        })
      ).json() as { id: string }
      const pid = (await waitForStatus(tp, token, other.id, 'running')).process?.pid ?? 0
      assert.ok(pid > 0)
      // As for a deleted environment: services stop their servers, the deploy capability removes the tree.
      await tp.platform.services.removeEnvironment(envId)
      assert.throws(() => process.kill(pid, 0), /ESRCH/)
      await tp.platform.deploy.removeEnvironment(envId)
      assert.equal(existsSync(path.join(tp.platform.config.dataDir, 'envs', envId, 'services')), false)
    })

    test('bad input is refused before anything is provisioned', async (t) => {
      const tp = await startPlatform(t, kind)
      t.after(() => removeSandboxes())
      const { token, workspaceId } = await setUpOwner(tp)
      const envId = await createEnvironment(tp, token, workspaceId, 'shop')
      const post = (body: unknown) => tp.call('POST', `/v1/environments/${envId}/services`, { token, body })
      assert.equal((await post({ type: 'mongodb' })).statusCode, 400)
      assert.equal((await post({ type: 'redis', name: 'Bad Name' })).statusCode, 400)
      assert.equal((await post({ type: 'redis', extra: 1 })).statusCode, 400)
      const version = await post({ type: 'postgresql', version: '9' })
      assert.equal(version.statusCode, 400)
      assert.match(version.body, /this host has postgresql 15/)
      assert.equal(
        (await tp.call('POST', '/v1/environments/env_missing/services', { token, body: { type: 'redis' } }))
          .statusCode,
        404,
      )
      assert.equal((await tp.call('GET', '/v1/services/svc_missing', { token })).statusCode, 404)
      const list = (await tp.call('GET', `/v1/environments/${envId}/services`, { token })).json() as {
        items: unknown[]
      }
      assert.equal(list.items.length, 0)
    })

    test('a read-only token sees services but cannot create them or read their credentials', async (t) => {
      const tp = await startPlatform(t, kind)
      t.after(() => removeSandboxes())
      const { token, workspaceId } = await setUpOwner(tp)
      const envId = await createEnvironment(tp, token, workspaceId, 'shop')
      const minted = await tp.call('POST', '/v1/me/tokens', { token, body: { name: 'ro', scopes: ['read'] } })
      assert.equal(minted.statusCode, 201, minted.body)
      const ro = (minted.json() as { token: string }).token
      const svc = (
        await tp.call('POST', `/v1/environments/${envId}/services`, { token, body: { type: 'redis' } })
      ).json() as { id: string }
      assert.equal(
        (
          await tp.call('POST', `/v1/environments/${envId}/services`, {
            token: ro,
            body: { type: 'redis', name: 'other' },
          })
        ).statusCode,
        403,
      )
      assert.equal((await tp.call('GET', `/v1/services/${svc.id}`, { token: ro })).statusCode, 200)
      const denied = await tp.call('GET', `/v1/services/${svc.id}/credentials`, { token: ro })
      assert.equal(denied.statusCode, 403)
      assert.equal((await tp.call('DELETE', `/v1/services/${svc.id}`, { token: ro })).statusCode, 403)
      await tp.platform.services.settled(svc.id)
    })
  })
}
