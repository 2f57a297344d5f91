import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkInvariants, commitVersion, createCrashRig, type CrashRig, type Json } from './harness.js'

/**
 * Issue #19: `palisade serve` killed with SIGKILL at every phase of a deployment (hook points armed with
 * PALISADE_TEST_CRASH_AT), then started again: the deployment is settled truthfully (before the switch:
 * failed, interrupted, the previous release serving; after it: succeeded, the new release serving), exactly
 * one process runs per environment, the edge answers with the release the status names, the audit chain and
 * the variables are intact, and the next deployment succeeds.
 */
const POINTS = [
  'deploy.building',
  'deploy.built',
  'deploy.starting',
  'deploy.started',
  'deploy.recorded',
  'deploy.switch-saved',
  'deploy.switched',
  'deploy.succeeded',
] as const

const root = process.getuid?.() === 0

describe(
  'crash safety: kill -9 of the control plane during a deployment',
  { skip: !root && 'needs root (isolation)' },
  () => {
    test('every phase of a deploy, a rollback and a restart job settles and reconciles after kill -9', async (t) => {
      const rig: CrashRig = await createCrashRig(t)
      let server = await rig.start()
      const { envId, host } = await rig.bootstrap()
      // Deployment number n builds release n; each deployment gets a commit of its own version text.
      const versions = new Map<number, string>()
      const versionOf = (release: number): string => versions.get(release) ?? '?'
      let n = 0
      const deployNext = async (): Promise<Json> => {
        n++
        commitVersion(rig, `c${n}`)
        const d = await rig.deploy(envId)
        versions.set(d['number'] as number, `c${n}`)
        return d
      }
      assert.equal((await rig.waitDeployment((await deployNext())['id'] as string))['status'], 'succeeded')
      assert.equal(
        (await rig.api('PUT', `/v1/environments/${envId}/variables/GREETING`, { value: 'hi', secret: false }))
          .status < 300,
        true,
      )

      for (const point of POINTS) {
        await t.test(`killed at ${point}`, async () => {
          // Restart armed: the next deployment kills the control plane at `point`.
          await server.kill9()
          server = await rig.start(point)
          const dep = await deployNext()
          const signal = await Promise.race([
            server.ended,
            new Promise<string>((r) => setTimeout(() => r('timeout'), 90_000).unref()),
          ])
          assert.equal(
            signal,
            'SIGKILL',
            `the control plane was not killed at ${point}: ${server.output().slice(-2000)}`,
          )
          server = await rig.start()
          const settled = await rig.waitDeployment(dep['id'] as string, 30_000)
          const { release } = await checkInvariants(rig, envId, host, versionOf)
          if (settled['status'] === 'succeeded')
            assert.equal(release, dep['number'], 'a succeeded deployment serves its release')
          else {
            assert.equal(settled['reason'], 'interrupted by a control-plane restart')
            assert.notEqual(release, dep['number'], 'an interrupted deployment does not serve')
          }
          const afterSwitch = ['deploy.switch-saved', 'deploy.switched', 'deploy.succeeded'].includes(point)
          assert.equal(settled['status'], afterSwitch ? 'succeeded' : 'failed', JSON.stringify(settled))
          const vars = (await rig.api('GET', `/v1/environments/${envId}/variables`)).json['items'] as Array<{
            name: string
          }>
          assert.ok(
            vars.some((v) => v.name === 'GREETING'),
            'committed variables survive',
          )
          // The next deployment of the environment succeeds (no port held by an orphan, no stuck queue).
          const next = await rig.waitDeployment((await deployNext())['id'] as string)
          assert.equal(next['status'], 'succeeded', JSON.stringify(next))
          await checkInvariants(rig, envId, host, versionOf)
        })
      }
    })
  },
)
