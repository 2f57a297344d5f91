import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { fixedClock } from '../src/shared/clock.js'
import { STORE_KINDS } from './support/stores.js'
import {
  addEnvironment,
  addMember,
  apiToken,
  backupNow,
  download,
  importArchive,
  setUpOwner,
  startBackupPlatform,
  type BackupView,
} from './backup-helpers.js'

interface ScheduleView {
  environmentId: string
  enabled: boolean
  everyHours: number
  keep: number
  files: boolean
  nextRunAt: string | null
  lastRunAt: string | null
  lastBackupId: string | null
  lastError: string | null
}

const HOUR = 3_600_000

for (const kind of STORE_KINDS) {
  test(`[${kind}] the scheduler backs up every N hours as the platform and keeps only the newest scheduled backups`, async (t) => {
    const clock = fixedClock('2026-03-02T08:00:00.000Z')
    const tp = await startBackupPlatform(t, { kind, clock, schedulerIntervalMs: 50 })
    const { token: session, workspaceId } = await setUpOwner(tp)
    // An API token outlives the hours this test jumps over (a session would time out).
    const token = await apiToken(tp, session)
    const envId = await addEnvironment(tp, token, workspaceId, 'shop')
    const url = `/v1/environments/${envId}/backup-schedule`

    const initial = (await tp.call('GET', url, { token })).json() as ScheduleView
    assert.equal(initial.enabled, false)
    assert.equal(initial.nextRunAt, null)

    // Backups that retention never touches: one made by hand, one imported.
    const manual = await backupNow(tp, token, envId, { files: false })
    const imported = await importArchive(tp, token, envId, await download(tp, token, manual.id))
    assert.equal(imported.statusCode, 201, imported.body)

    const put = await tp.call('PUT', url, {
      token,
      body: { enabled: true, everyHours: 6, keep: 2, files: false },
    })
    assert.equal(put.statusCode, 200, put.body)
    const s = put.json() as ScheduleView
    assert.equal(s.nextRunAt, '2026-03-02T14:00:00.000Z')
    // Saving the same schedule again does not push the next run later.
    clock.advance(HOUR)
    const again = (
      await tp.call('PUT', url, { token, body: { enabled: true, everyHours: 6, keep: 2, files: false } })
    ).json() as ScheduleView
    assert.equal(again.nextRunAt, '2026-03-02T14:00:00.000Z')

    tp.platform.backupScheduler.start()
    const list = async (): Promise<BackupView[]> =>
      (
        (await tp.call('GET', `/v1/environments/${envId}/backups`, { token })).json() as {
          items: BackupView[]
        }
      ).items
    await new Promise((r) => setTimeout(r, 300))
    assert.equal((await list()).length, 2, 'nothing is due yet')

    const made: string[] = []
    for (let run = 1; run <= 4; run++) {
      clock.advance(6 * HOUR)
      const deadline = Date.now() + 30_000
      let view: ScheduleView
      for (;;) {
        view = (await tp.call('GET', url, { token })).json() as ScheduleView
        if (
          view.lastBackupId &&
          !made.includes(view.lastBackupId) &&
          view.lastRunAt === clock.now().toISOString()
        )
          break
        assert.ok(Date.now() < deadline, `scheduled run ${run} happened`)
        await new Promise((r) => setTimeout(r, 50))
      }
      assert.equal(view.lastError, null)
      assert.equal(view.nextRunAt, new Date(clock.now().getTime() + 6 * HOUR).toISOString())
      made.push(view.lastBackupId)
    }
    const items = await list()
    const scheduled = items.filter((b) => b.origin === 'scheduled')
    assert.deepEqual(
      scheduled.map((b) => b.id),
      [made[3], made[2]],
      'the two newest scheduled backups are kept',
    )
    assert.ok(scheduled.every((b) => b.status === 'succeeded'))
    assert.deepEqual(
      items
        .filter((b) => b.origin !== 'scheduled')
        .map((b) => b.origin)
        .sort(),
      ['import', 'manual'],
      'manual and imported backups are never pruned',
    )
    for (const gone of [made[0], made[1]]) {
      assert.equal((await tp.call('GET', `/v1/backups/${gone}`, { token })).statusCode, 404)
    }

    // Audit: each run and each pruned backup is an event by the platform.
    const events = await tp.platform.store.db
      .selectFrom('audit_events')
      .select(['action', 'actor', 'target_id', 'environment_id'])
      .where('environment_id', '=', envId)
      .where('action', 'in', ['environment.backup.create', 'environment.backup.delete'])
      .orderBy('seq')
      .execute()
    const byPlatform = events.filter((e) => (JSON.parse(e.actor) as { type: string }).type === 'platform')
    assert.deepEqual(
      byPlatform.map((e) => `${e.action} ${e.target_id}`),
      [
        `environment.backup.create ${made[0]}`,
        `environment.backup.create ${made[1]}`,
        `environment.backup.create ${made[2]}`,
        `environment.backup.delete ${made[0]}`,
        `environment.backup.create ${made[3]}`,
        `environment.backup.delete ${made[1]}`,
      ],
    )
    const updates = await tp.platform.store.db
      .selectFrom('audit_events')
      .select('actor')
      .where('action', '=', 'environment.backup-schedule.update')
      .where('environment_id', '=', envId)
      .execute()
    assert.equal(updates.length, 2)

    // Disabled: time passes, nothing runs.
    const off = await tp.call('PUT', url, {
      token,
      body: { enabled: false, everyHours: 6, keep: 2, files: false },
    })
    assert.equal((off.json() as ScheduleView).nextRunAt, null)
    clock.advance(48 * HOUR)
    await new Promise((r) => setTimeout(r, 300))
    assert.equal((await list()).length, 4)
  })
}

test('a scheduled run that cannot back up records why and tries again one period later, not in a loop', async (t) => {
  const clock = fixedClock('2026-03-02T08:00:00.000Z')
  const tp = await startBackupPlatform(t, { clock })
  const { token: session, workspaceId } = await setUpOwner(tp)
  const token = await apiToken(tp, session)
  const envId = await addEnvironment(tp, token, workspaceId, 'shop')
  const url = `/v1/environments/${envId}/backup-schedule`
  const put = await tp.call('PUT', url, {
    token,
    body: { enabled: true, everyHours: 1, keep: 1, files: false },
  })
  assert.equal(put.statusCode, 200, put.body)
  // Where the environment's archives go is taken by a file: no backup can start.
  const blocker = path.join(tp.platform.config.dataDir, 'backups', envId)
  mkdirSync(path.dirname(blocker), { recursive: true })
  writeFileSync(blocker, 'in the way')
  clock.advance(2 * HOUR)
  assert.equal(await tp.platform.backupScheduler.tick(), 1)
  const failed = (await tp.call('GET', url, { token })).json() as ScheduleView
  assert.match(failed.lastError ?? '', /EEXIST|ENOTDIR|exists|not a directory/)
  assert.equal(failed.lastRunAt, clock.now().toISOString())
  assert.equal(failed.nextRunAt, new Date(clock.now().getTime() + HOUR).toISOString())
  assert.equal(await tp.platform.backupScheduler.tick(), 0, 'not due again before its period')

  rmSync(blocker)
  clock.advance(HOUR)
  assert.equal(await tp.platform.backupScheduler.tick(), 1)
  const ok = (await tp.call('GET', url, { token })).json() as ScheduleView
  assert.equal(ok.lastError, null)
  assert.ok(ok.lastBackupId)
  assert.equal(
    ((await tp.call('GET', `/v1/backups/${ok.lastBackupId}`, { token })).json() as BackupView).status,
    'succeeded',
  )
})

test('schedule input is bounded and strict', async (t) => {
  const tp = await startBackupPlatform(t)
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await addEnvironment(tp, token, workspaceId, 'shop')
  const url = `/v1/environments/${envId}/backup-schedule`
  const base = { enabled: true, everyHours: 24, keep: 7, files: true }
  const bad: Array<[string, unknown]> = [
    ['everyHours 0', { ...base, everyHours: 0 }],
    ['everyHours 169', { ...base, everyHours: 169 }],
    ['everyHours 1.5', { ...base, everyHours: 1.5 }],
    ['everyHours as text', { ...base, everyHours: '24' }],
    ['keep 0', { ...base, keep: 0 }],
    ['keep 101', { ...base, keep: 101 }],
    ['enabled as text', { ...base, enabled: 'yes' }],
    ['a missing field', { enabled: true, everyHours: 24, keep: 7 }],
    ['an unknown field', { ...base, at: '03:00' }],
    ['not an object', [1, 2]],
  ]
  for (const [what, body] of bad) {
    const res = await tp.call('PUT', url, { token, body: body as Record<string, unknown> })
    assert.equal(res.statusCode, 400, `${what}: ${res.body}`)
  }
  const edges = [
    { ...base, everyHours: 1, keep: 1 },
    { ...base, everyHours: 168, keep: 100 },
  ]
  for (const body of edges) assert.equal((await tp.call('PUT', url, { token, body })).statusCode, 200)
  assert.equal(
    (await tp.call('GET', '/v1/environments/env_doesnotexist00000000/backup-schedule', { token })).statusCode,
    404,
  )
})

test('viewers read schedules, developers set them except on production, other workspaces see nothing', async (t) => {
  const tp = await startBackupPlatform(t)
  const { token, workspaceId } = await setUpOwner(tp)
  const staging = await addEnvironment(tp, token, workspaceId, 'shop', 'staging', 'staging')
  const production = await addEnvironment(tp, token, workspaceId, 'shop', 'main', 'production')
  const viewer = await addMember(tp, token, workspaceId, 'viewer@example.com', 'viewer')
  const developer = await addMember(tp, token, workspaceId, 'dev@example.com', 'developer')
  const body = { enabled: true, everyHours: 12, keep: 3, files: false }
  const put = (who: string, env: string) =>
    tp.call('PUT', `/v1/environments/${env}/backup-schedule`, { token: who, body })
  const get = (who: string, env: string) =>
    tp.call('GET', `/v1/environments/${env}/backup-schedule`, { token: who })

  assert.equal((await get(viewer, staging)).statusCode, 200)
  assert.equal((await put(viewer, staging)).statusCode, 403)
  assert.equal((await put(developer, staging)).statusCode, 200)
  assert.equal((await put(developer, production)).statusCode, 403)
  assert.equal((await put(token, production)).statusCode, 200)
  assert.equal(
    (await tp.call('PUT', `/v1/environments/${staging}/backup-schedule`, { body })).statusCode,
    401,
  )

  const ws = await tp.call('POST', '/v1/workspaces', { token: viewer, body: { name: 'globex' } })
  const theirs = await addEnvironment(tp, viewer, (ws.json() as { id: string }).id, 'site')
  assert.equal((await get(token, theirs)).statusCode, 404)
  assert.equal((await put(token, theirs)).statusCode, 404)
})
