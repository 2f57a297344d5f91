import assert from 'node:assert/strict'
import { test } from 'node:test'
import { nodeApp } from '../src/deploy/testing.js'
import { startDeploy } from './deploy-helpers.js'

// `palisade serve` answers on the API before it has resumed what a stopped control plane left behind:
// a deployment created in that gap is this control plane's own and must not be called interrupted.
test('resume fails what a previous control plane left queued, never a deployment taken since this one started', async (t) => {
  const app = await startDeploy(t)
  app.repo.commit(nodeApp('v1'))
  const first = await app.deploy()
  assert.equal(first.status, 'succeeded', first.reason ?? '')

  // A deployment row as a control plane that died mid-build would have left it.
  const db = app.platform.store.db
  const row = await db
    .selectFrom('deployments')
    .selectAll()
    .where('id', '=', first.id)
    .executeTakeFirstOrThrow()
  await db
    .insertInto('deployments')
    .values({
      ...row,
      id: 'dep_leftoverfromabefore',
      number: 99,
      status: 'building',
      created_at: '2020-01-01T00:00:00.000Z',
      finished_at: null,
      release: null,
    })
    .execute()

  app.repo.commit(nodeApp('v2'))
  const res = await app.call('POST', `/v1/environments/${app.envId}/deployments`, {})
  assert.equal(res.statusCode, 201, res.body)
  await app.platform.deploy.resume()
  const fresh = await app.waitFor((res.json() as { id: string }).id)
  assert.equal(fresh.status, 'succeeded', fresh.reason ?? '')
  assert.match((await app.get('/')).body, /^v2 /)
  const leftover = await db
    .selectFrom('deployments')
    .select(['status', 'reason'])
    .where('id', '=', 'dep_leftoverfromabefore')
    .executeTakeFirstOrThrow()
  assert.deepEqual(leftover, { status: 'failed', reason: 'interrupted by a control-plane restart' })
})
