import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SERVICES_AUDITED } from './support/audit-elsewhere.js'
import { assertOneEvent, countEvents, declaredActions } from './support/audit-events.js'
import { setUpOwner, startPlatform } from './support/platform.js'
import { createEnvironment, removeSandboxes, waitForStatus } from './services-helpers.js'

/** Every service and backup route that changes something writes exactly one audit event. */
test(
  'provisioning, backups, restores and deletions each write exactly one audit event',
  { skip: process.getuid?.() === 0 ? false : 'needs root: services run as the environment user' },
  async (t) => {
    const tp = await startPlatform(t, 'sqlite')
    t.after(() => removeSandboxes())
    const { token, workspaceId } = await setUpOwner(tp)
    const envId = await createEnvironment(tp, token, workspaceId, 'shop')
    const declared = await declaredActions(tp.platform)
    const called: string[] = []
    const step = async (key: string, url: string, body?: unknown) => {
      const method = key.split(' ')[0]!.toUpperCase() as 'POST'
      const before = await countEvents(tp.platform)
      const res = await tp.call(method, url, { token, ...(body === undefined ? {} : { body }) })
      await assertOneEvent(tp.platform, key, res, before, { action: declared(key) })
      called.push(key)
      return res
    }
    const backupDone = async (id: string) => {
      for (let i = 0; i < 960; i++) {
        const b = (await tp.call('GET', `/v1/backups/${id}`, { token })).json() as { status: string }
        if (b.status !== 'running') return b.status
        await new Promise((r) => setTimeout(r, 250))
      }
      throw new Error('backup still running')
    }

    const created = await step('post /v1/environments/{id}/services', `/v1/environments/${envId}/services`, {
      type: 'redis',
    })
    const serviceId = (created.json() as { id: string }).id
    await waitForStatus(tp, token, serviceId, 'running')
    const backup = await step('post /v1/environments/{id}/backups', `/v1/environments/${envId}/backups`, {})
    const backupId = (backup.json() as { id: string }).id
    assert.equal(await backupDone(backupId), 'succeeded')
    await step('post /v1/backups/{id}/restore', `/v1/backups/${backupId}/restore`)
    await step('delete /v1/backups/{id}', `/v1/backups/${backupId}`)
    await step('delete /v1/services/{id}', `/v1/services/${serviceId}`)
    assert.deepEqual(called.sort(), [...SERVICES_AUDITED].sort(), 'every listed service route was called')
  },
)
