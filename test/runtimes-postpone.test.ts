import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createShopEnvironment, setUpOwner, startPlatform, STORE_KINDS } from './support/platform.js'

for (const kind of STORE_KINDS) {
  describe(`runtime update postponement (${kind})`, () => {
    test('a postponement is stored, shown by GET, audited, and lifted with null', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token, workspaceId } = await setUpOwner(tp)
      const id = await createShopEnvironment(tp, token, workspaceId, { name: 'main', runtime: 'node@20' })
      const until = new Date(Date.now() + 3 * 86_400_000).toISOString()
      const res = await tp.call('POST', `/v1/environments/${id}/runtime-updates/postpone`, {
        token,
        body: { until },
      })
      assert.equal(res.statusCode, 200, res.body)
      const plan = (await tp.call('GET', `/v1/environments/${id}/runtime-updates`, { token })).json() as {
        postponedUntil: string | null
        retryAfter: string | null
      }
      assert.equal(plan.postponedUntil, until)
      assert.equal(plan.retryAfter, null)
      const events = await tp.platform.store.db
        .selectFrom('audit_events')
        .select(['action', 'changes'])
        .where('environment_id', '=', id)
        .where('action', '=', 'environment.runtime.postpone')
        .execute()
      assert.equal(events.length, 1)
      assert.match(events[0]!.changes, new RegExp(until.replace(/[.]/g, '\\.')))
      const lifted = await tp.call('POST', `/v1/environments/${id}/runtime-updates/postpone`, {
        token,
        body: { until: null },
      })
      assert.equal((lifted.json() as { postponedUntil: string | null }).postponedUntil, null)
    })

    test('bad postponements are refused with the field named, and nothing is stored', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token, workspaceId } = await setUpOwner(tp)
      const id = await createShopEnvironment(tp, token, workspaceId, { name: 'main', runtime: 'node@20' })
      const post = (body: unknown) =>
        tp.call('POST', `/v1/environments/${id}/runtime-updates/postpone`, { token, body: body as object })
      const cases: Array<[unknown, number, string]> = [
        [{}, 400, 'until missing'],
        [{ until: 'next tuesday' }, 400, 'not a date-time'],
        [{ until: 12 }, 400, 'not a string'],
        [{ until: 'x'.repeat(41) }, 400, 'too long'],
        [{ until: new Date(Date.now() + 86_400_000).toISOString(), extra: 1 }, 400, 'unknown field'],
        [{ until: '2001-01-01T00:00:00Z' }, 422, 'in the past'],
        [{ until: new Date(Date.now() + 400 * 86_400_000).toISOString() }, 422, 'more than a year ahead'],
      ]
      for (const [body, status, why] of cases) {
        const res = await post(body)
        assert.equal(res.statusCode, status, `${why}: ${res.body}`)
        const err = (res.json() as { error: { details?: Array<{ field: string }> } }).error
        if (status === 422) assert.equal(err.details?.[0]?.field, 'until', why)
      }
      const stored = await tp.platform.store.db.selectFrom('runtime_update_states').selectAll().execute()
      assert.deepEqual(stored, [])
      const other = await tp.call(
        'POST',
        '/v1/environments/env_doesnotexist000000/runtime-updates/postpone',
        {
          token,
          body: { until: new Date(Date.now() + 86_400_000).toISOString() },
        },
      )
      assert.equal(other.statusCode, 404)
    })
  })
}
