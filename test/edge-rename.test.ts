import assert from 'node:assert/strict'
import { test } from 'node:test'
import { nodeApp } from '../src/deploy/testing.js'
import { httpGet, startDeployPlatform } from './deploy-helpers.js'

test('renaming a project, an environment or a workspace republishes the edge route at once: old host 404, new host served', async (t) => {
  const p = await startDeployPlatform(t, { deploy: { healthTimeoutMs: 4_000 } })
  const f = await p.addApp()
  f.repo.commit(nodeApp('v1'))
  const d = await f.deploy()
  assert.equal(d.status, 'succeeded', d.reason ?? '')
  const served = await httpGet(f.edgePort, f.host)
  assert.equal(served.status, 200)

  // project rename: <env>.<project>.<ws>.<base>
  const renamed = await f.call('PATCH', `/v1/projects/${f.projectId}`, { name: 'renamed' })
  assert.equal(renamed.statusCode, 200)
  const env = (await f.call('GET', `/v1/environments/${f.envId}`)).json() as { host: string }
  assert.notEqual(env.host, f.host)
  assert.match(env.host, /^main\.renamed\./)
  // no wait, no deploy: the answer of the PATCH means the edge already switched
  assert.equal((await httpGet(f.edgePort, f.host)).status, 404)
  const now = await httpGet(f.edgePort, env.host)
  assert.equal(now.status, 200)
  assert.equal(now.body, served.body)

  // environment rename
  assert.equal((await f.call('PATCH', `/v1/environments/${f.envId}`, { name: 'live' })).statusCode, 200)
  const live = (await f.call('GET', `/v1/environments/${f.envId}`)).json() as { host: string }
  assert.match(live.host, /^live\.renamed\./)
  assert.equal((await httpGet(f.edgePort, env.host)).status, 404)
  assert.equal((await httpGet(f.edgePort, live.host)).status, 200)

  // workspace rename
  assert.equal((await f.call('PATCH', `/v1/workspaces/${f.workspaceId}`, { name: 'globex' })).statusCode, 200)
  const moved = (await f.call('GET', `/v1/environments/${f.envId}`)).json() as { host: string }
  assert.match(moved.host, /^live\.renamed\.globex\./)
  assert.equal((await httpGet(f.edgePort, live.host)).status, 404)
  assert.equal((await httpGet(f.edgePort, moved.host)).status, 200)

  // each rename wrote exactly one audit event
  const events = await f.platform.store.db
    .selectFrom('audit_events')
    .select('action')
    .where('action', 'in', ['project.update', 'environment.update', 'workspace.update'])
    .execute()
  assert.deepEqual(events.map((e) => e.action).sort(), [
    'environment.update',
    'project.update',
    'workspace.update',
  ])
})
