import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { createProcessRecords, inspectProcesses, sandboxName } from '../../src/deploy/index.js'
import { processesOfUid } from '../../src/deploy/drivers/local/process-records.js'
import { eventually } from '../../src/deploy/testing.js'
import { environmentUser, redisCli } from '../services-helpers.js'
import { checkInvariants, commitVersion, crashThenRestart, createCrashRig, type Json } from './harness.js'

const root = process.getuid?.() === 0

/**
 * Issue #19, data operations: `palisade serve` killed with SIGKILL during a sync (once its target is backed up,
 * and once the target's first service was replaced), during a backup import (the archive verified, no row yet)
 * and during an environment's deletion (its files removed, its processes, user and namespaces not yet). After
 * each restart: the sync's target has its data from before the sync back (from the sync's own backup) and is out
 * of maintenance, the sync reads `failed`; the import left no row and no scratch file, and imports again; the
 * deleted environment leaves no process, user, namespace, record or directory; the other environment serves on,
 * the audit chain verifies.
 */
describe(
  'crash safety: kill -9 during syncs, imports and deletions',
  { skip: !root && 'needs root (isolation)' },
  () => {
    test('each interrupted data operation is undone or finished at the next start', async (t) => {
      const rig = await createCrashRig(t)
      let server = await rig.start()
      const { envId, host } = await rig.bootstrap()
      const projectId = (await rig.api('GET', `/v1/environments/${envId}`)).json['projectId'] as string
      const staging = await rig.api('POST', `/v1/projects/${projectId}/environments`, { name: 'staging' })
      assert.equal(staging.status, 201, JSON.stringify(staging.json))
      const stagingId = staging.json['id'] as string
      t.after(() => {
        const name = sandboxName(stagingId)
        for (const args of [
          ['ip', 'netns', 'delete', name],
          ['ip', 'netns', 'delete', `${name}-b`],
          ['userdel', '--', name],
        ])
          spawnSync(args[0] as string, args.slice(1), { stdio: 'ignore' })
      })
      const service = async (env: string): Promise<string> => {
        const r = await rig.api('POST', `/v1/environments/${env}/services`, { type: 'redis', name: 'cache' })
        assert.equal(r.status, 201, JSON.stringify(r.json))
        const id = r.json['id'] as string
        await eventually(
          async () => (await rig.api('GET', `/v1/services/${id}`)).json['status'] === 'running',
          90_000,
          'redis running',
        )
        return id
      }
      const mainCache = await service(envId)
      const stagingCache = await service(stagingId)
      commitVersion(rig, 'c1')
      assert.equal(
        (await rig.waitDeployment((await rig.deploy(envId))['id'] as string))['status'],
        'succeeded',
      )
      const stagingUser = environmentUser(rig.dataDir, stagingId)
      const redis = async (id: string, env: string, ...args: string[]): Promise<string> => {
        const creds = (await rig.api('GET', `/v1/services/${id}/credentials`)).json
        const user = environmentUser(rig.dataDir, env)
        return (await redisCli(creds['variables'] as Record<string, string>, args, user)).out.trim()
      }
      assert.equal(await redis(mainCache, envId, 'SET', 'k', 'from-main'), 'OK')
      assert.equal(await redis(stagingCache, stagingId, 'SET', 'k', 'staging-before'), 'OK')
      // A backup of main, downloaded: the archive the import below uploads.
      const backup = await rig.api('POST', `/v1/environments/${envId}/backups`, {})
      assert.equal(backup.status, 201, JSON.stringify(backup.json))
      await eventually(
        async () =>
          (await rig.api('GET', `/v1/backups/${String(backup.json['id'])}`)).json['status'] === 'succeeded',
        60_000,
        'backup',
      )
      const download = await fetch(`${rig.apiUrl}/v1/backups/${String(backup.json['id'])}/download`, {
        headers: rig.auth(),
      })
      assert.equal(download.status, 200)
      const archive = Buffer.from(await download.arrayBuffer())
      /** Both servers run (the API answers before the services are started again after a restart). */
      const servicesUp = (): Promise<unknown> =>
        eventually(
          async () => {
            for (const id of [mainCache, stagingCache]) {
              const p = (await rig.api('GET', `/v1/services/${id}`)).json['process'] as Json | null
              if (p?.['state'] !== 'running') return false
            }
            return true
          },
          90_000,
          'both services running',
        )
      const sync = async (): Promise<Json> => {
        await servicesUp()
        const r = await rig.api('POST', `/v1/environments/${stagingId}/sync`, {
          from: envId,
          services: ['cache'],
        })
        assert.equal(r.status, 202, JSON.stringify(r.json))
        return r.json
      }
      /** The target's data from before the sync, out of maintenance, the sync failed (told so). */
      const syncUndone = async (s: Json): Promise<void> => {
        // The undo runs at start once the services run: its end is the sync's reason saying so.
        const after = await eventually(
          async () => {
            const x = (await rig.api('GET', `/v1/syncs/${String(s['id'])}`)).json
            return /restored from backup/.test(String(x['reason'])) ? x : undefined
          },
          180_000,
          'the sync undone',
        ).catch(() => {
          throw new Error(`sync not undone: ${server.output().slice(-3000)}`)
        })
        assert.equal(after['status'], 'failed', JSON.stringify(after))
        assert.equal(
          (await rig.api('GET', `/v1/environments/${stagingId}/status`)).json['maintenance'],
          false,
        )
        assert.equal(await redis(stagingCache, stagingId, 'GET', 'k'), 'staging-before')
        await checkInvariants(rig, envId, host, () => 'c1', { auditVerify: false })
      }
      await server.kill9()
      server = await rig.start('sync.backed-up')

      await t.test('a sync killed once its target was backed up is undone', async () => {
        let s: Json = {}
        server = await crashThenRestart(
          rig,
          server,
          'sync.backed-up',
          async () => (s = await sync()),
          'sync.service-replaced',
        )
        await syncUndone(s)
      })

      await t.test(
        'a sync killed after it replaced the target’s service is undone from its backup',
        async () => {
          let s: Json = {}
          server = await crashThenRestart(
            rig,
            server,
            'sync.service-replaced',
            async () => (s = await sync()),
            'import.verified',
          )
          await syncUndone(s)
        },
      )

      await t.test(
        'an import killed after its archive was verified leaves nothing, and imports again',
        async () => {
          const before = ((await rig.api('GET', `/v1/environments/${envId}/backups`)).json['items'] as Json[])
            .length
          const upload = (): Promise<Response> =>
            fetch(`${rig.apiUrl}/v1/environments/${envId}/backups/import`, {
              method: 'POST',
              headers: { ...rig.auth(), 'content-type': 'application/octet-stream' },
              body: archive,
            })
          server = await crashThenRestart(rig, server, 'import.verified', upload, 'environment.files-removed')
          const items = (await rig.api('GET', `/v1/environments/${envId}/backups`)).json['items'] as Json[]
          assert.equal(items.length, before, JSON.stringify(items))
          // Removed once the services run again (backups.recover).
          const dir = path.join(rig.dataDir, 'backups', envId)
          const scratch = (): string[] =>
            readdirSync(dir).filter((f) => /\.(import|verify|work|part|restore)$/.test(f))
          await eventually(() => scratch().length === 0, 90_000, 'no scratch file').catch(() => {
            throw new Error(`scratch files left: ${scratch().join(', ')}`)
          })
          const again = await upload()
          assert.equal(again.status, 201, await again.text())
          // A sync without a crash then copies main's data in.
          const s = await sync()
          await eventually(
            async () => (await rig.api('GET', `/v1/syncs/${String(s['id'])}`)).json['status'] !== 'running',
            90_000,
            'sync',
          )
          assert.equal((await rig.api('GET', `/v1/syncs/${String(s['id'])}`)).json['status'], 'succeeded')
          assert.equal(await redis(stagingCache, stagingId, 'GET', 'k'), 'from-main')
        },
      )

      await t.test(
        'a deletion killed half-way is finished: no process, user, namespace or directory',
        async () => {
          const name = sandboxName(stagingId)
          server = await crashThenRestart(rig, server, 'environment.files-removed', () =>
            rig.api('DELETE', `/v1/environments/${stagingId}?force=true`),
          )
          assert.equal((await rig.api('GET', `/v1/environments/${stagingId}`)).status, 404)
          await eventually(
            () =>
              processesOfUid(stagingUser.uid).length === 0 &&
              spawnSync('getent', ['passwd', name]).status !== 0 &&
              !existsSync(`/run/netns/${name}`) &&
              !existsSync(`/run/netns/${name}-b`) &&
              !existsSync(path.join(rig.dataDir, 'sandboxes', 'processes', stagingId)) &&
              !existsSync(path.join(rig.dataDir, 'envs', stagingId)) &&
              inspectProcesses(createProcessRecords(rig.dataDir), { environmentId: stagingId }).unrecorded
                .length === 0,
            60_000,
            'the deleted environment to leave nothing behind',
          ).catch(() => {
            throw new Error(
              JSON.stringify({
                uidProcs: processesOfUid(stagingUser.uid),
                user: spawnSync('getent', ['passwd', name]).status,
                netns: existsSync(`/run/netns/${name}`),
                dir: existsSync(path.join(rig.dataDir, 'envs', stagingId)),
              }),
            )
          })
          await checkInvariants(rig, envId, host, () => 'c1')
          assert.equal(await redis(mainCache, envId, 'GET', 'k'), 'from-main')
          commitVersion(rig, 'c2')
          const next = await rig.waitDeployment((await rig.deploy(envId))['id'] as string)
          assert.equal(next['status'], 'succeeded', JSON.stringify(next))
        },
      )
    })
  },
)
