import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { STORE_KINDS, setUpOwner, startPlatform } from './support/platform.js'

for (const kind of STORE_KINDS) {
  describe(`WAF settings on ${kind}`, () => {
    test('the WAF cannot be disabled through the API, whatever the spelling', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const project = (
        await tp.call('POST', '/v1/workspaces/acme/projects', { token, body: { name: 'shop' } })
      ).json() as { id: string }
      const env = (
        await tp.call('POST', `/v1/projects/${project.id}/environments`, { token, body: { name: 'main' } })
      ).json() as { id: string }
      const url = `/v1/environments/${env.id}/waf`
      for (const body of [
        { enabled: false },
        { mode: 'detection-only' },
        { ruleEngine: 'Off' },
        { paranoia: 1, engine: 'off' },
        { detectionOnly: true },
      ]) {
        const res = await tp.call('PUT', url, { token, body })
        assert.equal(res.statusCode, 422, JSON.stringify(body))
        assert.equal((res.json() as { error: { code: string } }).error.code, 'waf_always_on')
      }
      const settings = (await tp.call('GET', url, { token })).json() as { mode: string; paranoia: number }
      assert.deepEqual([settings.mode, settings.paranoia], ['blocking', 1])
    })

    test('paranoia, thresholds and exclusions are validated and audited', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const project = (
        await tp.call('POST', '/v1/workspaces/acme/projects', { token, body: { name: 'shop' } })
      ).json() as { id: string }
      const env = (
        await tp.call('POST', `/v1/projects/${project.id}/environments`, { token, body: { name: 'main' } })
      ).json() as { id: string }
      const url = `/v1/environments/${env.id}/waf`
      for (const body of [
        { paranoia: 5 },
        { paranoia: 0 },
        { inboundThreshold: 0 },
        { exclusions: [{ target: 'ARGS:q' }] },
        { exclusions: [{ ruleId: [942200, 942100] }] },
        { exclusions: [{ ruleId: 942100, target: 'ARGS:q" ,ctl:ruleEngine=Off' }] },
        { exclusions: [{ tag: 'bad tag with spaces' }] },
      ]) {
        const res = await tp.call('PUT', url, { token, body })
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)} → ${res.body}`)
      }
      const ok = await tp.call('PUT', url, {
        token,
        body: {
          paranoia: 2,
          inboundThreshold: 10,
          exclusions: [
            { ruleId: 942100, target: 'ARGS:search' },
            { ruleId: [920000, 920999] },
            { tag: 'attack-xss' },
          ],
        },
      })
      assert.equal(ok.statusCode, 200, ok.body)
      const got = (await tp.call('GET', url, { token })).json() as {
        paranoia: number
        inboundThreshold: number
        exclusions: unknown[]
      }
      assert.deepEqual([got.paranoia, got.inboundThreshold, got.exclusions.length], [2, 10, 3])
      const events = await tp.platform.store.db
        .selectFrom('audit_events')
        .select(['action'])
        .where('action', '=', 'environment.waf.update')
        .execute()
      assert.equal(events.length, 1)
      const list = await tp.call('GET', `/v1/environments/${env.id}/waf-events`, { token })
      assert.deepEqual(list.json(), { items: [], nextCursor: null })
    })
  })
}
