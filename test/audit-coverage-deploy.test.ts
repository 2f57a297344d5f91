import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Deployment } from '../src/deploy/index.js'
import { eventually, nodeApp } from '../src/deploy/testing.js'
import { startDeploy } from './deploy-helpers.js'
import { DEPLOY_AUDITED } from './support/audit-elsewhere.js'
import { assertOneEvent, countEvents, declaredActions } from './support/audit-events.js'

/** Every deploy route that changes something writes exactly one event (the rest: test/audit-coverage.test.ts). */
test('deployments, rollbacks, jobs, access and domains each write exactly one audit event', async (t) => {
  // the domain's proof: a TXT record the injected resolver answers once the claim's token is known
  const txt = new Map<string, string[][]>()
  const f = await startDeploy(t, {
    domains: { proof: { resolveTxt: async (name) => txt.get(name) ?? [], lookup: async () => [] } },
  })
  const declared = await declaredActions(f.platform)
  f.repo.commit(nodeApp('v1'))
  assert.equal((await f.deploy()).status, 'succeeded')
  f.repo.commit(nodeApp('v2'))

  const called: string[] = []
  const step = async (key: string, url: string, body: unknown, targetId?: string) => {
    const method = key.split(' ')[0]!.toUpperCase() as 'POST'
    const before = await countEvents(f.platform)
    const res = await f.call(method, url, body)
    await assertOneEvent(f.platform, key, res, before, {
      action: declared(key),
      ...(targetId ? { targetId } : {}),
    })
    called.push(key)
    return res
  }
  const settle = async (res: { json(): unknown }) => {
    const d = await f.waitFor((res.json() as Deployment).id)
    assert.equal(d.status, 'succeeded')
    await f.platform.deploy.idle(f.envId)
  }

  await settle(
    await step('post /v1/environments/{id}/deployments', `/v1/environments/${f.envId}/deployments`, {}),
  )
  await settle(
    await step('post /v1/environments/{id}/rollback', `/v1/environments/${f.envId}/rollback`, undefined),
  )
  const job = await step('post /v1/environments/{id}/jobs', `/v1/environments/${f.envId}/jobs`, {
    type: 'restart',
  })
  await eventually(async () => {
    const j = (await f.call('GET', `/v1/jobs/${(job.json() as { id: string }).id}`)).json() as {
      status: string
    }
    return j.status === 'succeeded' || j.status === 'failed' ? j : undefined
  }, 30_000)
  await step(
    'put /v1/environments/{id}/access',
    `/v1/environments/${f.envId}/access`,
    {
      ipAllow: ['127.0.0.1'],
      ipGroups: [],
      password: null,
    },
    f.envId,
  )
  await step(
    'patch /v1/environments/{id}/access',
    `/v1/environments/${f.envId}/access`,
    { ipAllow: ['127.0.0.0/8'] },
    f.envId,
  )
  const claim = await step('post /v1/environments/{id}/domains', `/v1/environments/${f.envId}/domains`, {
    name: 'shop.example.com',
  })
  const proof = (claim.json() as { verification: { dns: { name: string; value: string } } }).verification.dns
  txt.set(proof.name, [[proof.value]])
  const verified = await step(
    'post /v1/environments/{id}/domains/{name}/verify',
    `/v1/environments/${f.envId}/domains/shop.example.com/verify`,
    undefined,
  )
  assert.equal((verified.json() as { status: string }).status, 'verified')
  await step(
    'delete /v1/environments/{id}/domains/{name}',
    `/v1/environments/${f.envId}/domains/shop.example.com`,
    undefined,
  )
  assert.deepEqual(called.sort(), [...DEPLOY_AUDITED].sort(), 'every listed deploy route was called')
})
