import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { insertUser } from '../src/iam/index.js'
import { createShopEnvironment, setUpOwner, startPlatform, STORE_KINDS, signIn } from './support/platform.js'

interface Plan {
  setting: string
  current: string | null
  target?: string
  steps: Array<{ kind: string; version: string | null; due: string; reason: string }>
  notices: string[]
}

for (const kind of STORE_KINDS) {
  describe(`runtime updates API (${kind})`, () => {
    test('at end of life the environment may choose the deprecated channel; the plan says so', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token, workspaceId } = await setUpOwner(tp)
      const id = await createShopEnvironment(tp, token, workspaceId, {
        name: 'main',
        runtime: 'node@18.20.4',
      })
      const plan = async () =>
        (
          (await tp.call('GET', `/v1/environments/${id}/runtime-updates`, { token })).json() as {
            eol?: { status: string; options: string[]; choice?: string }
          }
        ).eol
      assert.equal((await plan())?.status, 'reached', 'node 18 ended in April 2025')
      assert.equal((await plan())?.choice, undefined)
      const bad = await tp.call('PATCH', `/v1/environments/${id}`, { token, body: { runtimeChannel: 'lts' } })
      assert.equal(bad.statusCode, 400, bad.body)
      const chosen = await tp.call('PATCH', `/v1/environments/${id}`, {
        token,
        body: { runtimeChannel: 'deprecated' },
      })
      assert.equal(chosen.statusCode, 200, chosen.body)
      assert.equal((chosen.json() as { runtimeChannel: string }).runtimeChannel, 'deprecated')
      assert.equal((await plan())?.choice, 'deprecated channel')
      const events = await tp.platform.store.db
        .selectFrom('audit_events')
        .select('changes')
        .where('action', '=', 'environment.update')
        .execute()
      assert.ok(
        events.some((e) => e.changes.includes('runtimeChannel')),
        'the choice is in the audit log',
      )
    })

    test('a never-deployed node@20 environment is told which version its first deployment installs', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token, workspaceId } = await setUpOwner(tp)
      const id = await createShopEnvironment(tp, token, workspaceId, {
        name: 'main',
        runtime: 'node@20',
        maintenanceWindow: { day: 'sun', start: '02:30', durationMinutes: 60, timezone: 'Europe/Paris' },
      })
      const res = await tp.call('GET', `/v1/environments/${id}/runtime-updates`, { token })
      assert.equal(res.statusCode, 200, res.body)
      const plan = res.json() as Plan
      assert.equal(plan.setting, 'node@20')
      assert.equal(plan.current, null)
      assert.match(plan.target ?? '', /^20\.\d+\.\d+$/)
      assert.equal(plan.steps[0]?.kind, 'none')
      assert.match(plan.steps[0]?.reason ?? '', /not deployed yet/)
    })

    test('an exact pin reports its version as current and is never changed', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token, workspaceId } = await setUpOwner(tp)
      const id = await createShopEnvironment(tp, token, workspaceId, {
        name: 'main',
        runtime: 'node@20.11.0',
      })
      const plan = (await tp.call('GET', `/v1/environments/${id}/runtime-updates`, { token })).json() as Plan
      assert.equal(plan.current, '20.11.0')
      assert.equal(plan.target, undefined)
      assert.equal(plan.steps[0]?.kind, 'none')
      assert.match(plan.steps[0]?.reason ?? '', /pinned/)
      assert.ok(
        plan.notices.some((n) => n.includes('security release')),
        'the pin is told about security fixes it does not receive',
      )
    })

    test('a custom runtime is never changed', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token, workspaceId } = await setUpOwner(tp)
      const id = await createShopEnvironment(tp, token, workspaceId, {
        name: 'main',
        runtime: 'custom:registry.example.com/acme/app:1',
      })
      const plan = (await tp.call('GET', `/v1/environments/${id}/runtime-updates`, { token })).json() as Plan
      assert.deepEqual(
        plan.steps.map((s) => s.kind),
        ['none'],
      )
      assert.match(plan.steps[0]?.reason ?? '', /custom runtimes are never changed/)
    })

    test('the plan needs a token and hides environments of other workspaces (404)', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token, workspaceId } = await setUpOwner(tp)
      const id = await createShopEnvironment(tp, token, workspaceId, { name: 'main' })
      assert.equal((await tp.call('GET', `/v1/environments/${id}/runtime-updates`)).statusCode, 401)
      // A signed-in user who is not a member of the workspace (IDOR attempt) learns nothing.
      const password = 'another long passphrase 77'
      await tp.platform.store.db
        .transaction()
        .execute((trx) => insertUser(trx, new Date(), 'mallory@example.com', password))
      const other = await signIn(tp, 'mallory@example.com', password)
      assert.equal(
        (await tp.call('GET', `/v1/environments/${id}/runtime-updates`, { token: other })).statusCode,
        404,
      )
      assert.equal(
        (await tp.call('GET', '/v1/environments/env_doesnotexist000000/runtime-updates', { token }))
          .statusCode,
        404,
      )
    })

    test('the catalog lists Node majors with their end-of-life dates', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const res = await tp.call('GET', '/v1/runtimes', { token })
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json() as {
        generatedAt: string
        items: Array<{ runtime: string; major: number; eolAt: string; latest: string | null }>
      }
      const node20 = body.items.find((i) => i.runtime === 'node' && i.major === 20)
      assert.equal(node20?.eolAt, '2026-04-30')
      assert.match(node20?.latest ?? '', /^20\./)
      assert.equal((await tp.call('GET', '/v1/runtimes')).statusCode, 401)
    })
  })
}
