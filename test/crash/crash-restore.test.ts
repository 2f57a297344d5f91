import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { eventually } from '../../src/deploy/testing.js'
import { environmentUser, redisCli } from '../services-helpers.js'
import { checkInvariants, commitVersion, createCrashRig, type Json } from './harness.js'

const root = process.getuid?.() === 0

/**
 * Issue #19: a restore cut short by kill -9 (after the first service's data was replaced) is rolled back at the
 * next start: the data from before the restore (written after the backup, committed) is there again, the
 * environment is out of maintenance, the app answers, the audit chain verifies, and a restore without a crash
 * then succeeds.
 */
describe('crash safety: kill -9 during a backup restore', { skip: !root && 'needs root (isolation)' }, () => {
  for (const point of ['restore.held', 'restore.service-replaced', 'restore.files-replaced']) {
    test(`a restore killed at ${point} is rolled back to the data from before it`, async (t) => {
      const rig = await createCrashRig(t)
      let server = await rig.start()
      const { envId, host } = await rig.bootstrap()
      const svc = await rig.api('POST', `/v1/environments/${envId}/services`, {
        type: 'redis',
        name: 'cache',
      })
      assert.equal(svc.status, 201, JSON.stringify(svc.json))
      await eventually(
        async () =>
          (await rig.api('GET', `/v1/services/${String(svc.json['id'])}`)).json['status'] === 'running',
        60_000,
        'redis running',
      )
      commitVersion(rig, 'c1')
      const dep = await rig.waitDeployment((await rig.deploy(envId))['id'] as string)
      assert.equal(dep['status'], 'succeeded', JSON.stringify(dep))
      const vars = JSON.parse(
        (
          await (async () => {
            const { httpGet } = await import('../deploy-helpers.js')
            return httpGet(rig.edgePort, host, '/env', { 'user-agent': 'crash/1.0', accept: '*/*' })
          })()
        ).body,
      ) as Record<string, string>
      const user = environmentUser(rig.dataDir, envId)
      const redis = async (...args: string[]): Promise<string> =>
        (await redisCli(vars, args, user)).out.trim()
      assert.equal(await redis('SET', 'k', 'in-backup'), 'OK')
      const backup = await rig.api('POST', `/v1/environments/${envId}/backups`, {})
      assert.equal(backup.status, 201, JSON.stringify(backup.json))
      await eventually(
        async () =>
          (await rig.api('GET', `/v1/backups/${String(backup.json['id'])}`)).json['status'] === 'succeeded',
        60_000,
        'backup',
      )
      // Written after the backup and committed: what an interrupted restore must not lose.
      assert.equal(await redis('SET', 'k', 'after-backup'), 'OK')

      await server.kill9()
      server = await rig.start(point)
      // The API answers before the services are started again: a restore asked too early is refused (409,
      // service not running) and asked again until it runs into the crash point.
      let exited = false
      void server.ended.then(() => (exited = true))
      const restore = (async () => {
        while (!exited) {
          const r = await rig
            .api('POST', `/v1/backups/${String(backup.json['id'])}/restore`)
            .catch(() => null)
          if (r === null || r.status !== 409) return r
          await new Promise((res) => setTimeout(res, 200))
        }
        return null
      })()
      const signal = await Promise.race([
        server.ended,
        new Promise<string>((r) => setTimeout(() => r('timeout'), 90_000).unref()),
      ])
      await restore
      assert.equal(signal, 'SIGKILL', `not killed at ${point}: ${server.output().slice(-2000)}`)

      server = await rig.start()
      await checkInvariants(rig, envId, host, () => 'c1')
      assert.equal(await redis('GET', 'k'), 'after-backup', 'the data from before the restore is back')
      const backups = (await rig.api('GET', `/v1/environments/${envId}/backups`)).json['items'] as Json[]
      assert.ok(
        backups.every((b) => b['status'] !== 'running'),
        JSON.stringify(backups),
      )

      // The same restore without a crash succeeds and leaves maintenance off.
      const again = await rig.api('POST', `/v1/backups/${String(backup.json['id'])}/restore`)
      assert.equal(again.status, 200, JSON.stringify(again.json))
      assert.equal(await redis('GET', 'k'), 'in-backup')
      await checkInvariants(rig, envId, host, () => 'c1')
    })
  }
})
