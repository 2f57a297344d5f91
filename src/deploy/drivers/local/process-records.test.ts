import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { crashPointsFromEnv } from '../../../config/crash-points.js'
import { createProcessRecords, isAlive, processStartTime, stopPid } from './process-records.js'
import { inspectProcesses } from './reconcile.js'

function sleeper(t: { after(fn: () => void): void }): number {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' })
  t.after(() => child.kill('SIGKILL'))
  return child.pid as number
}

test('a record names its process by pid, start time and boot id, and stops naming it once it is gone', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-records-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const records = createProcessRecords(dir)
  const pid = sleeper(t)
  const rec = records.write({
    environmentId: 'env_a',
    instanceId: 'ins_a',
    role: 'app',
    pid,
    release: 3,
    deploymentId: 'dep_a',
    ports: [20000, 30000],
    socketPath: null,
  })
  assert.ok(rec)
  assert.equal(isAlive(rec), true)
  assert.deepEqual(
    records.list('env_a').map((r) => [r.instanceId, r.release]),
    [['ins_a', 3]],
  )
  assert.equal(inspectProcesses(records, { environmentId: 'env_a' }).live.length, 1)
  await stopPid(pid, rec.startTime, 1_000)
  assert.equal(isAlive(rec), false)
  assert.equal(inspectProcesses(records, { environmentId: 'env_a', tidy: true }).dead.length, 1)
  assert.deepEqual(records.list('env_a'), [], 'dead records are tidied away')
})

// Threat: a pid recycled by an unrelated process after the recorded one died; signalling it would kill a
// process the platform never started.
test('a process whose start time differs from the record is never signalled', async (t) => {
  const pid = sleeper(t)
  await stopPid(pid, 'not-its-start-time', 200)
  assert.notEqual(processStartTime(pid), null, 'the process still runs')
  assert.equal(isAlive({ pid, startTime: 'not-its-start-time', bootId: 'x' }), false)
})

// Threat: a planted or half-written record (a crash while writing) must not name an arbitrary pid.
test('malformed records and leftovers of an interrupted write are dropped, not trusted', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-records-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const records = createProcessRecords(dir)
  const pid = sleeper(t)
  records.write({
    environmentId: 'env_b',
    instanceId: 'ins_b',
    role: 'bridge',
    pid,
    release: null,
    deploymentId: null,
    ports: [],
    socketPath: null,
  })
  const envDir = path.join(records.dir, 'env_b')
  writeFileSync(path.join(envDir, 'app-ins_c.json.tmp'), '{"v":1,"pid":')
  writeFileSync(
    path.join(envDir, 'app-ins_d.json'),
    JSON.stringify({
      v: 1,
      pid: 1,
      startTime: '1',
      role: 'app',
      instanceId: 'ins_d',
      environmentId: 'env_b',
    }),
  )
  assert.deepEqual(
    records.list('env_b').map((r) => r.instanceId),
    ['ins_b'],
  )
  assert.deepEqual(readdirSync(envDir), ['bridge-ins_b.json'])
  assert.throws(
    () => records.remove({ environmentId: '../x', instanceId: 'a', role: 'app' }),
    /not an environment id/,
  )
})

test('crash points are armed only together with PALISADE_TEST_HOOKS=1', () => {
  assert.deepEqual(crashPointsFromEnv({ PALISADE_TEST_CRASH_AT: 'deploy.built' }), [])
  assert.deepEqual(
    crashPointsFromEnv({ PALISADE_TEST_HOOKS: '1', PALISADE_TEST_CRASH_AT: 'deploy.built, bad point!' }),
    ['deploy.built'],
  )
})
