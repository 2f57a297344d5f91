import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { createProcessRecords, inspectProcesses, sandboxName } from '../../src/deploy/index.js'
import { eventually } from '../../src/deploy/testing.js'
import { commitVersion, countFromProc, createCrashRig } from './harness.js'

const root = process.getuid?.() === 0

/** Live processes of a uid, read from /proc. */
function processesOfUid(uid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(readFileSync(`/proc/${n}/status`, 'utf8'))
      } catch {
        return false
      }
    })
    .map(Number)
}

describe(
  'crash safety: stopping for good and deleting leave nothing running',
  { skip: !root && 'needs root (isolation)' },
  () => {
    test('SIGTERM of palisade serve stops every process it started, adopted ones included', async (t) => {
      const rig = await createCrashRig(t)
      let server = await rig.start()
      const { envId } = await rig.bootstrap()
      commitVersion(rig, 'c1')
      assert.equal(
        (await rig.waitDeployment((await rig.deploy(envId))['id'] as string))['status'],
        'succeeded',
      )
      // A crash: the app and its bridge survive and are adopted by the next control plane.
      await server.kill9()
      assert.deepEqual(
        {
          sandboxes: countFromProc(rig.dataDir, envId).sandboxes,
          bridges: countFromProc(rig.dataDir, envId).bridges,
        },
        { sandboxes: 1, bridges: 1 },
        'the app outlives a crash of the control plane',
      )
      server = await rig.start()
      await server.stop()
      assert.deepEqual(
        countFromProc(rig.dataDir, envId).pids,
        [],
        'no sandbox or bridge left after SIGTERM: ' + server.output(),
      )
      const seen = inspectProcesses(createProcessRecords(rig.dataDir))
      assert.equal(seen.live.length, 0, JSON.stringify(seen.live))
      assert.equal(seen.unrecorded.length, 0, JSON.stringify(seen.unrecorded))
    })

    test('after a crash with no restart, doctor lists what runs and --stop-leftovers stops it', async (t) => {
      const rig = await createCrashRig(t)
      const server = await rig.start()
      const { envId } = await rig.bootstrap()
      commitVersion(rig, 'c1')
      assert.equal(
        (await rig.waitDeployment((await rig.deploy(envId))['id'] as string))['status'],
        'succeeded',
      )
      await server.kill9()
      const doctor = await rig.cli(['--json', 'doctor'])
      const processes = (JSON.parse(doctor.stdout) as Array<{ check: string; detail: string }>).find(
        (c) => c.check === 'processes',
      )
      assert.match(processes?.detail ?? '', /control plane is not running/)
      const stop = await rig.cli(['doctor', '--stop-leftovers'])
      assert.equal(stop.code, 0, stop.stderr)
      assert.match(stop.stdout, /stopped [1-9]\d* process/)
      assert.deepEqual(countFromProc(rig.dataDir, envId).pids, [])
    })

    test('deleting an environment leaves no process, user or network namespace behind', async (t) => {
      const rig = await createCrashRig(t)
      const server = await rig.start()
      const { envId } = await rig.bootstrap()
      commitVersion(rig, 'c1')
      assert.equal(
        (await rig.waitDeployment((await rig.deploy(envId))['id'] as string))['status'],
        'succeeded',
      )
      // Adopted after a crash, then deleted: the adopted instance goes too.
      await server.kill9()
      await rig.start()
      const name = sandboxName(envId)
      const uid = Number(spawnSync('id', ['-u', name]).stdout.toString().trim())
      assert.ok(uid >= 610_000, `the environment has its own user (${uid})`)
      const del = await rig.api('DELETE', `/v1/environments/${envId}`, undefined)
      assert.ok(del.status < 300, JSON.stringify(del.json))
      await eventually(
        () =>
          countFromProc(rig.dataDir, envId).pids.length === 0 &&
          processesOfUid(uid).length === 0 &&
          spawnSync('getent', ['passwd', name]).status !== 0 &&
          !existsSync(`/run/netns/${name}`) &&
          !existsSync(`/run/netns/${name}-b`) &&
          !existsSync(path.join(rig.dataDir, 'sandboxes', 'processes', envId)),
        20_000,
        'the environment to leave nothing behind',
      ).catch(() => {
        throw new Error(
          JSON.stringify({
            proc: countFromProc(rig.dataDir, envId),
            uidProcs: processesOfUid(uid),
            user: spawnSync('getent', ['passwd', name]).status,
            netns: existsSync(`/run/netns/${name}`),
          }),
        )
      })
    })
  },
)
