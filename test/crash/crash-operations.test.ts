import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { createProcessRecords, inspectProcesses } from '../../src/deploy/index.js'
import { eventually, nodeApp } from '../../src/deploy/testing.js'
import {
  checkInvariants,
  commitVersion,
  crashThenRestart,
  createCrashRig,
  startSummary,
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

/** Pids whose command line has an argument equal to `tag` (as `ps` would find them). */
function pidsNaming(tag: string): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(tag)) found.push(Number(name))
    } catch {
      // gone
    }
  }
  return found
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
        server = await crashThenRestart(rig, server, 'deploy.switched', async () => (rb = await rollback()))
        const settled = await rig.waitDeployment(rb['id'] as string, 30_000)
        assert.equal(settled['status'], 'succeeded', JSON.stringify(settled))
        const { release } = await checkInvariants(rig, envId, host, versionOf, { auditVerify: false })
        assert.equal(release, 1)
      })

      await t.test(
        'a build killed while it runs fails, and nothing of its sandbox is left after the restart',
        async () => {
          // A build step that runs long and leaves a detached child of its own (new session, SIGTERM
          // ignored), tagged so that /proc shows it: killed with the control plane mid-build, neither may
          // outlive the restart.
          const tag = `crash-build-${randomBytes(6).toString('hex')}`
          const child = `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)`
          const step = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(child)}, '${tag}'], { detached: true, stdio: 'ignore' }).unref(); setTimeout(() => {}, 120000)`
          const app = nodeApp('slow-build')
          const pkg = JSON.parse(app['package.json'] ?? '{}') as { scripts: Record<string, string> }
          pkg.scripts['build'] = `node -e ${JSON.stringify(step)} ${tag}`
          const dep = await deployNext({ ...app, 'package.json': JSON.stringify(pkg) })
          // Killed from outside once the build's detached child runs (later than the `build.running` point).
          await eventually(() => pidsNaming(tag).length >= 2, 120_000, 'the build and its detached child')
          await server.kill9()
          server = await rig.start('job.running')
          const settled = await rig.waitDeployment(dep['id'] as string, 30_000)
          assert.equal(settled['status'], 'failed')
          assert.equal(settled['reason'], INTERRUPTED)
          const { release } = await checkInvariants(rig, envId, host, versionOf, { auditVerify: false })
          assert.equal(release, 1)
          const p = processesByRole(rig, envId)
          assert.equal(p.roles['build'] ?? 0, 0, JSON.stringify(p))
          assert.equal(p.unrecorded, 0, JSON.stringify(p))
          await eventually(() => pidsNaming(tag).length === 0, 10_000, 'no process of the build').catch(
            () => {
              throw new Error(`processes of the build left: ${JSON.stringify(pidsNaming(tag))}`)
            },
          )
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
        t.diagnostic(startSummary(rig))
      })
    })
  },
)
