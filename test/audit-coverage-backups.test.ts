import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BACKUPS_AUDITED } from './support/audit-elsewhere.js'
import { assertOneEvent, countEvents, declaredActions } from './support/audit-events.js'
import {
  addEnvironment,
  backupNow,
  download,
  importArchive,
  setUpOwner,
  startBackupPlatform,
} from './backup-helpers.js'

/** The backup import and schedule routes each write exactly one audit event (a refused import writes none). */
test('importing an archive and setting a backup schedule each write exactly one audit event', async (t) => {
  const tp = await startBackupPlatform(t)
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await addEnvironment(tp, token, workspaceId, 'shop')
  const declared = await declaredActions(tp.platform)
  const called: string[] = []

  const archive = await download(tp, token, (await backupNow(tp, token, envId, { files: false })).id)
  let key = 'post /v1/environments/{id}/backups/import'
  let before = await countEvents(tp.platform)
  const imported = await importArchive(tp, token, envId, archive)
  await assertOneEvent(tp.platform, key, imported, before, {
    action: declared(key),
    targetId: (imported.json() as { id: string }).id,
  })
  called.push(key)
  before = await countEvents(tp.platform)
  const refused = await importArchive(tp, token, envId, archive.subarray(0, archive.length - 1))
  assert.equal(refused.statusCode, 422)
  assert.equal(await countEvents(tp.platform), before, 'a refused import writes nothing')

  key = 'put /v1/environments/{id}/backup-schedule'
  before = await countEvents(tp.platform)
  const put = await tp.call('PUT', `/v1/environments/${envId}/backup-schedule`, {
    token,
    body: { enabled: true, everyHours: 24, keep: 7, files: true },
  })
  await assertOneEvent(tp.platform, key, put, before, { action: declared(key), targetId: envId })
  called.push(key)
  before = await countEvents(tp.platform)
  assert.equal((await tp.call('GET', `/v1/environments/${envId}/backup-schedule`, { token })).statusCode, 200)
  assert.equal(await countEvents(tp.platform), before, 'reading the schedule writes nothing')

  assert.deepEqual(called.sort(), [...BACKUPS_AUDITED].sort(), 'every listed backup route was called')
})
