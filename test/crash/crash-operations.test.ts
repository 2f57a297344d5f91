import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { createProcessRecords, inspectProcesses } from '../../src/deploy/index.js'
import { nodeApp } from '../../src/deploy/testing.js'
import {
  checkInvariants,
  commitVersion,
  crashThenRestart,
  createCrashRig,
  type CrashRig,
  type Json,
} from './harness.js'

const root = process.getuid?.() === 0
const INTERRUPTED = 'interrupted by a control-plane restart'

/** Live recorded processes of the environment by role, and the platform-marked processes no record names. */
function processesByRole(
  rig: CrashRig,
  envId: string,
): { roles: Record<string, number>; unrecorded: number } {
  const seen = inspectProcesses(createProcessRecords(rig.dataDir), { environmentId: envId })
  const roles: Record<string, number> = {}
  for (const r of seen.live) roles[r.role] = (roles[r.role] ?? 0) + 1
  return { roles, unrecorded: seen.unrecorded.length }
}

/**
 * Issue #19, operations other than a deployment: `palisade serve` killed with SIGKILL in the middle of a
 * rollback (before and after its switch), a build, a command job and a restart job; each restart is armed for
 * the next point (so one start per kill). After each: the interrupted operation is told truthfully by the API,
 * nothing it started still runs, exactly one app instance serves the release the status names, no
 * maintenance; at the end the next deployment succeeds and the audit chain verifies.
 */
describe(
  'crash safety: kill -9 during rollbacks, builds and jobs',
  { skip: !root && 'needs root (isolation)' },
  () => {
    test('each interrupted operation ends in a state the API tells truthfully', async (t) => {
      const rig = await createCrashRig(t)
      let server = await rig.start()
      const { envId, host } = await rig.bootstrap()
      const versions = new Map<number, string>()
      const versionOf = (release: number): string => versions.get(release) ?? '?'
      let n = 0
      const deployNext = async (files?: Record<string, string>): Promise<Json> => {
        n++
        if (files) rig.repo.commit(files)
        else commitVersion(rig, `c${n}`)
        const d = await rig.deploy(envId)
        versions.set(d['number'] as number, `c${n}`)
        return d
      }
      for (let i = 0; i < 2; i++)
        assert.equal((await rig.waitDeployment((await deployNext())['id'] as string))['status'], 'succeeded')
      const rollback = async (): Promise<Json> => {
        const r = await rig.api('POST', `/v1/environments/${envId}/rollback`, {})
        assert.equal(r.status, 201, JSON.stringify(r.json))
        return r.json
      }
      const job = async (body: Json): Promise<Json> => {
        const r = await rig.api('POST', `/v1/environments/${envId}/jobs`, body)
        assert.equal(r.status, 202, JSON.stringify(r.json))
        return r.json
      }
      await server.kill9()
      server = await rig.start('deploy.starting')

      await t.test(
        'a rollback killed before its switch fails; the release before it keeps serving',
        async () => {
          let rb: Json = {}
          server = await crashThenRestart(
            rig,
            server,
            'deploy.starting',
            async () => (rb = await rollback()),
            'deploy.switched',
          )
          const settled = await rig.waitDeployment(rb['id'] as string, 30_000)
          assert.equal(settled['status'], 'failed')
          assert.equal(settled['reason'], INTERRUPTED)
          const { release } = await checkInvariants(rig, envId, host, versionOf, { auditVerify: false })
          assert.equal(release, 2)
        },
      )

      await t.test('a rollback killed after its switch succeeds and serves the earlier release', async () => {
        let rb: Json = {}
        server = await crashThenRestart(
          rig,
          server,
          'deploy.switched',
          async () => (rb = await rollback()),
          'build.running',
        )
        const settled = await rig.waitDeployment(rb['id'] as string, 30_000)
        assert.equal(settled['status'], 'succeeded', JSON.stringify(settled))
        const { release } = await checkInvariants(rig, envId, host, versionOf, { auditVerify: false })
        assert.equal(release, 1)
      })

      await t.test(
        'a build killed while it runs fails, and its sandbox is gone after the restart',
        async () => {
          let dep: Json = {}
          // A build step that runs long enough to be cut: `npm run build`.
          const app = nodeApp('slow-build')
          const pkg = JSON.parse(app['package.json'] ?? '{}') as { scripts: Record<string, string> }
          pkg.scripts['build'] = 'node -e "setTimeout(() => {}, 60000)"'
          server = await crashThenRestart(
            rig,
            server,
            'build.running',
            async () => (dep = await deployNext({ ...app, 'package.json': JSON.stringify(pkg) })),
            'job.running',
          )
          const settled = await rig.waitDeployment(dep['id'] as string, 30_000)
          assert.equal(settled['status'], 'failed')
          assert.equal(settled['reason'], INTERRUPTED)
          const { release } = await checkInvariants(rig, envId, host, versionOf, { auditVerify: false })
          assert.equal(release, 1)
          const p = processesByRole(rig, envId)
          assert.equal(p.roles['build'] ?? 0, 0, JSON.stringify(p))
          assert.equal(p.unrecorded, 0, JSON.stringify(p))
          assert.ok(
            !existsSync(path.join(rig.dataDir, 'envs', envId, 'releases', String(dep['number']))),
            'the half-built release is removed',
          )
        },
      )

      await t.test('a command job killed while it runs fails, and its process is gone', async () => {
        let j: Json = {}
        server = await crashThenRestart(
          rig,
          server,
          'job.running',
          async () => (j = await job({ type: 'command', command: 'sleep 120' })),
          'job.restart-started',
        )
        const after = (await rig.api('GET', `/v1/jobs/${String(j['id'])}`)).json
        assert.equal(after['status'], 'failed', JSON.stringify(after))
        assert.equal(after['reason'], INTERRUPTED)
        await checkInvariants(rig, envId, host, versionOf, { auditVerify: false })
        const p = processesByRole(rig, envId)
        assert.equal(p.roles['job'] ?? 0, 0, JSON.stringify(p))
      })

      await t.test(
        'a restart job killed after its new instance started leaves exactly one instance',
        async () => {
          let j: Json = {}
          server = await crashThenRestart(
            rig,
            server,
            'job.restart-started',
            async () => (j = await job({ type: 'restart' })),
          )
          const after = (await rig.api('GET', `/v1/jobs/${String(j['id'])}`)).json
          assert.equal(after['status'], 'failed', JSON.stringify(after))
          assert.equal(after['reason'], INTERRUPTED)
          await checkInvariants(rig, envId, host, versionOf, { auditVerify: false })
        },
      )

      await t.test('the next deployment succeeds and the audit chain verifies', async () => {
        const next = await rig.waitDeployment((await deployNext())['id'] as string)
        assert.equal(next['status'], 'succeeded', JSON.stringify(next))
        const { release } = await checkInvariants(rig, envId, host, versionOf)
        assert.equal(release, next['number'])
      })
    })
  },
)
