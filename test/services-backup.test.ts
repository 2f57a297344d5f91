import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test, type TestContext } from 'node:test'
import { setUpOwner, startPlatform, type TestPlatform } from './support/platform.js'
import {
  createEnvironment,
  environmentUser,
  mariadbSql,
  provision,
  psqlSql,
  redisCli,
  removeSandboxes,
} from './services-helpers.js'

interface BackupView {
  id: string
  status: string
  reason: string | null
  sizeBytes: number
  sha256: string
  contents: { services: Array<{ name: string }>; files: string[] }
}

async function waitBackup(tp: TestPlatform, token: string, id: string): Promise<BackupView> {
  const deadline = Date.now() + 240_000
  for (;;) {
    const b = (await tp.call('GET', `/v1/backups/${id}`, { token })).json() as BackupView
    if (b.status !== 'running') return b
    assert.ok(Date.now() < deadline, 'backup still running')
    await new Promise((r) => setTimeout(r, 250))
  }
}

const asRoot = process.getuid?.() === 0

test(
  'backup → damage → restore gives back identical data, and a corrupted archive changes nothing',
  { skip: asRoot ? false : 'needs root' },
  async (t: TestContext) => {
    const tp = await startPlatform(t, 'sqlite')
    t.after(() => removeSandboxes())
    const { token, workspaceId } = await setUpOwner(tp)
    const envId = await createEnvironment(tp, token, workspaceId, 'shop')
    assert.equal(
      (await tp.call('PATCH', `/v1/environments/${envId}`, { token, body: { persistentDirs: ['uploads'] } }))
        .statusCode,
      200,
    )
    await Promise.all(
      (['mariadb', 'postgresql', 'redis'] as const).map((type) => provision(tp, token, envId, { type })),
    )
    const vars = await tp.platform.services.connectionVariables(envId)
    const user = environmentUser(tp, envId)

    // Some data everywhere.
    const seed = Array.from({ length: 200 }, (_, i) => `(${i}, 'row ${i} ✓')`).join(',')
    assert.equal(
      (
        await mariadbSql(
          vars,
          `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(50)); INSERT INTO items VALUES ${seed};`,
          user,
        )
      ).code,
      0,
    )
    assert.equal(
      (
        await psqlSql(
          vars,
          `CREATE TABLE items (id int primary key, label text); INSERT INTO items VALUES ${seed};`,
          user,
        )
      ).code,
      0,
    )
    assert.equal((await redisCli(vars, ['SET', 'counter', '41'], user)).out.trim(), 'OK')
    const uploads = path.join(tp.platform.config.dataDir, 'envs', envId, 'shared', 'uploads')
    mkdirSync(uploads, { recursive: true })
    writeFileSync(path.join(uploads, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]))
    chownSync(uploads, user.uid, user.gid)
    const mariaSum = async (): Promise<string> =>
      (
        await mariadbSql(vars, 'SELECT COUNT(*), MD5(GROUP_CONCAT(id, label ORDER BY id)) FROM items', user)
      ).out.trim()
    const pgSum = async (): Promise<string> =>
      (
        await psqlSql(
          vars,
          "SELECT count(*) || ' ' || md5(string_agg(id || label, ',' ORDER BY id)) FROM items",
          user,
        )
      ).out.trim()
    const before = { maria: await mariaSum(), pg: await pgSum() }
    assert.match(before.maria, /^200\s+[0-9a-f]{32}$/)

    const created = await tp.call('POST', `/v1/environments/${envId}/backups`, { token, body: {} })
    assert.equal(created.statusCode, 201, created.body)
    const backup = await waitBackup(tp, token, (created.json() as { id: string }).id)
    assert.equal(backup.status, 'succeeded', backup.reason ?? '')
    assert.deepEqual(backup.contents.services.map((s) => s.name).sort(), ['mariadb', 'postgresql', 'redis'])
    assert.deepEqual(backup.contents.files, ['uploads'])

    // The download is the stored, encrypted archive: no plaintext row and no password inside.
    const dl = await tp.call('GET', `/v1/backups/${backup.id}/download`, { token })
    assert.equal(dl.statusCode, 200)
    assert.equal(createHash('sha256').update(dl.rawPayload).digest('hex'), backup.sha256)
    assert.equal(dl.rawPayload.length, backup.sizeBytes)
    assert.ok(!dl.rawPayload.includes(Buffer.from('row 1')))
    assert.ok(!dl.rawPayload.includes(Buffer.from(vars['MYSQL_PASSWORD']!)))

    // Damage: drop tables, change the key, delete the file.
    assert.equal((await mariadbSql(vars, 'DROP TABLE items; CREATE TABLE later (x INT);', user)).code, 0)
    assert.equal((await psqlSql(vars, 'DROP TABLE items', user)).code, 0)
    await redisCli(vars, ['SET', 'counter', '99'], user)
    rmSync(path.join(uploads, 'logo.png'))

    // One flipped byte in the middle of the archive: refused, nothing restored.
    const archive = tp.platform.services.backups.archivePath({ environmentId: envId, id: backup.id })
    const good = readFileSync(archive)
    const bad = Buffer.from(good)
    const at = Math.floor(bad.length / 2)
    bad[at] = (bad[at] as number) ^ 0x01
    writeFileSync(archive, bad)
    const refused = await tp.call('POST', `/v1/backups/${backup.id}/restore`, { token })
    assert.equal(refused.statusCode, 400, refused.body)
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'backup_corrupt')
    assert.match((refused.json() as { error: { message: string } }).error.message, /nothing was restored/)
    assert.match((await mariadbSql(vars, 'SELECT COUNT(*) FROM items', user)).out, /doesn't exist/)
    assert.equal((await redisCli(vars, ['GET', 'counter'], user)).out.trim(), '99')

    writeFileSync(archive, good)
    const restored = await tp.call('POST', `/v1/backups/${backup.id}/restore`, { token })
    assert.equal(restored.statusCode, 200, restored.body)
    assert.equal(await mariaSum(), before.maria)
    assert.match((await mariadbSql(vars, 'SELECT COUNT(*) FROM later', user)).out, /doesn't exist/)
    assert.equal(await pgSum(), before.pg)
    assert.equal((await redisCli(vars, ['GET', 'counter'], user)).out.trim(), '41')
    assert.deepEqual([...readFileSync(path.join(uploads, 'logo.png'))], [0x89, 0x50, 0x4e, 0x47, 1, 2, 3])
    // The app can still write after a restore (PostgreSQL grants and Redis AOF came back).
    assert.equal((await psqlSql(vars, 'INSERT INTO items VALUES (1000, $$after$$)', user)).code, 0)
    assert.equal((await redisCli(vars, ['INCR', 'counter'], user)).out.trim(), '42')

    const actions = (
      await tp.platform.store.db
        .selectFrom('audit_events')
        .select('action')
        .where('target_id', '=', backup.id)
        .orderBy('seq')
        .execute()
    ).map((e) => e.action)
    assert.deepEqual(actions, ['environment.backup.create', 'environment.backup.restore'])
    assert.equal((await tp.call('DELETE', `/v1/backups/${backup.id}`, { token })).statusCode, 204)
    assert.equal(existsSync(archive), false)
  },
)
