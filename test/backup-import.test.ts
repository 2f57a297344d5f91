import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { createSecretBox } from '../src/shared/secret-box.js'
import type { TestPlatform } from './support/platform.js'
import {
  addEnvironment,
  addMember,
  backupNow,
  download,
  errorCode,
  importArchive,
  setUpOwner,
  startBackupPlatform,
  type BackupView,
} from './backup-helpers.js'

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const sharedDir = (tp: TestPlatform, envId: string): string =>
  path.join(tp.platform.config.dataDir, 'envs', envId, 'shared')
const backupFiles = (tp: TestPlatform, envId: string): string[] => {
  const dir = path.join(tp.platform.config.dataDir, 'backups', envId)
  return existsSync(dir) ? readdirSync(dir).sort() : []
}
const eventCount = async (tp: TestPlatform): Promise<number> =>
  Number(
    (
      await tp.platform.store.db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

async function withUploads(tp: TestPlatform, token: string, envId: string, files: Record<string, Buffer>) {
  const res = await tp.call('PATCH', `/v1/environments/${envId}`, {
    token,
    body: { persistentDirs: ['uploads'] },
  })
  assert.equal(res.statusCode, 200, res.body)
  const dir = path.join(sharedDir(tp, envId), 'uploads')
  mkdirSync(dir, { recursive: true })
  for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data)
}

test('an exported archive imports back into its environment or another one, and restores identical files', async (t) => {
  const tp = await startBackupPlatform(t)
  const { token, workspaceId } = await setUpOwner(tp)
  const envA = await addEnvironment(tp, token, workspaceId, 'shop')
  const envB = await addEnvironment(tp, token, workspaceId, 'blog')
  const logo = randomBytes(5000)
  await withUploads(tp, token, envA, { 'logo.png': logo, 'notes.txt': Buffer.from('ünïcode ✓\n') })

  const original = await backupNow(tp, token, envA)
  const archive = await download(tp, token, original.id)
  assert.equal(original.origin, 'manual')
  // The row goes (and its archive with it): the downloaded file is all that is left.
  assert.equal((await tp.call('DELETE', `/v1/backups/${original.id}`, { token })).statusCode, 204)
  assert.deepEqual(backupFiles(tp, envA), [])

  const res = await importArchive(tp, token, envA, archive)
  assert.equal(res.statusCode, 201, res.body)
  const imported = res.json() as BackupView
  assert.notEqual(imported.id, original.id)
  assert.equal(imported.status, 'succeeded')
  assert.equal(imported.origin, 'import')
  assert.equal(imported.environmentId, envA)
  assert.equal(imported.sourceEnvironmentId, envA)
  assert.equal(imported.sha256, sha256(archive), 'stored as uploaded')
  assert.equal(imported.sizeBytes, archive.length)
  assert.deepEqual(imported.contents.files, ['uploads'])
  assert.deepEqual(backupFiles(tp, envA), [`${imported.id}.pbk`], 'no temporary file is left')
  // Listed like any backup; and the same archive downloads back byte for byte.
  const list = (await tp.call('GET', `/v1/environments/${envA}/backups`, { token })).json() as {
    items: BackupView[]
  }
  assert.deepEqual(
    list.items.map((b) => b.id),
    [imported.id],
  )
  assert.equal(sha256(await download(tp, token, imported.id)), sha256(archive))

  rmSync(path.join(sharedDir(tp, envA), 'uploads'), { recursive: true })
  const restored = await tp.call('POST', `/v1/backups/${imported.id}/restore`, { token })
  assert.equal(restored.statusCode, 200, restored.body)
  assert.deepEqual(readFileSync(path.join(sharedDir(tp, envA), 'uploads', 'logo.png')), logo)
  assert.equal(readFileSync(path.join(sharedDir(tp, envA), 'uploads', 'notes.txt'), 'utf8'), 'ünïcode ✓\n')

  // Another environment (another project): that is how data moves.
  const intoB = await importArchive(tp, token, envB, archive)
  assert.equal(intoB.statusCode, 201, intoB.body)
  const b = intoB.json() as BackupView
  assert.equal(b.environmentId, envB)
  assert.equal(b.sourceEnvironmentId, envA)
  assert.equal((await tp.call('POST', `/v1/backups/${b.id}/restore`, { token })).statusCode, 200)
  assert.deepEqual(readFileSync(path.join(sharedDir(tp, envB), 'uploads', 'logo.png')), logo)

  const ev = await tp.platform.store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('action', '=', 'environment.backup.import')
    .where('target_id', '=', b.id)
    .executeTakeFirstOrThrow()
  assert.equal(ev.environment_id, envB)
  assert.equal(ev.outcome, 'success')
  const changes = JSON.parse(ev.changes) as Record<string, { after?: unknown }>
  assert.equal(changes['sourceEnvironmentId']?.after, envA)
  assert.equal(changes['sourceBackupId']?.after, original.id)
})

test('a damaged, truncated, foreign or non-archive upload is refused with 422 and leaves nothing behind', async (t) => {
  const tp = await startBackupPlatform(t)
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await addEnvironment(tp, token, workspaceId, 'shop')
  await withUploads(tp, token, envId, { 'a.bin': randomBytes(3000) })
  const kept = await backupNow(tp, token, envId)
  const good = await download(tp, token, kept.id)

  // The same environment on an installation with another master key.
  const other = await startBackupPlatform(t, { masterKey: 'b'.repeat(64) })
  const o = await setUpOwner(other)
  const otherEnv = await addEnvironment(other, o.token, o.workspaceId, 'shop')
  const foreign = await download(
    other,
    o.token,
    (await backupNow(other, o.token, otherEnv, { files: false })).id,
  )

  const flip = (at: number): Buffer => {
    const b = Buffer.from(good)
    b[at] = (b[at] as number) ^ 0x01
    return b
  }
  const headerEnd = 12 + good.readUInt32BE(8)
  const cases: Array<[string, Buffer, string]> = [
    ['one flipped byte in the middle', flip(Math.floor(good.length / 2)), 'backup_corrupt'],
    ['one flipped byte in the header', flip(14), 'backup_corrupt'],
    ['one flipped byte in the IV', flip(headerEnd + 3), 'backup_corrupt'],
    // The sealed key is itself authenticated: damage there reads as a key this installation cannot open.
    ['one flipped byte in the sealed key', flip(headerEnd - 20), 'backup_not_importable'],
    ['one flipped byte in the tag', flip(good.length - 1), 'backup_corrupt'],
    ['the last kilobyte missing', good.subarray(0, good.length - 1024), 'backup_corrupt'],
    ['only the first bytes', good.subarray(0, 30), 'backup_corrupt'],
    ['not an archive at all', randomBytes(2048), 'backup_corrupt'],
    [
      'a huge header length',
      Buffer.concat([good.subarray(0, 8), Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(64)]),
      'backup_corrupt',
    ],
    ['sealed with another master key', foreign, 'backup_not_importable'],
  ]
  const eventsBefore = await eventCount(tp)
  for (const [what, body, code] of cases) {
    const res = await importArchive(tp, token, envId, body)
    assert.equal(res.statusCode, 422, `${what}: ${res.body}`)
    assert.equal(errorCode(res), code, what)
    if (code === 'backup_corrupt')
      assert.match((res.json() as { error: { message: string } }).error.message, /nothing was imported/, what)
  }
  const empty = await importArchive(tp, token, envId, Buffer.alloc(0))
  assert.equal(empty.statusCode, 400, empty.body)
  const json = await tp.call('POST', `/v1/environments/${envId}/backups/import`, {
    token,
    body: { archive: 'x' },
  })
  assert.equal(json.statusCode, 400, json.body)
  const text = await importArchive(tp, token, envId, Buffer.from('hello'), { 'content-type': 'text/plain' })
  assert.equal(text.statusCode, 415, text.body)

  const list = (await tp.call('GET', `/v1/environments/${envId}/backups`, { token })).json() as {
    items: BackupView[]
  }
  assert.deepEqual(
    list.items.map((b) => b.id),
    [kept.id],
    'no row left behind',
  )
  assert.deepEqual(backupFiles(tp, envId), [`${kept.id}.pbk`], 'no file left behind')
  assert.equal(await eventCount(tp), eventsBefore, 'a refused import is not an audited change')
  // The good archive still imports after all that.
  assert.equal((await importArchive(tp, token, envId, good)).statusCode, 201)
})

test('an archive over the import limit is refused with 413, declared or streamed, and leaves nothing behind', async (t) => {
  const limit = 8192
  const tp = await startBackupPlatform(t, { importLimit: limit })
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await addEnvironment(tp, token, workspaceId, 'shop')
  await withUploads(tp, token, envId, { 'big.bin': randomBytes(20_000) })
  const big = await backupNow(tp, token, envId)
  const small = await backupNow(tp, token, envId, { files: false })
  const bigArchive = await download(tp, token, big.id)
  const smallArchive = await download(tp, token, small.id)
  assert.ok(bigArchive.length > limit && smallArchive.length < limit)
  const before = backupFiles(tp, envId)

  // Content-Length says too much: refused before the body is read.
  const declared = await importArchive(tp, token, envId, bigArchive)
  assert.equal(declared.statusCode, 413, declared.body)
  assert.equal(errorCode(declared), 'body_too_large')
  // No length (chunked): cut off while streaming.
  const chunks = Array.from({ length: Math.ceil(bigArchive.length / 1000) }, (_, i) =>
    bigArchive.subarray(i * 1000, (i + 1) * 1000),
  )
  const streamed = await importArchive(tp, token, envId, Readable.from(chunks))
  assert.equal(streamed.statusCode, 413, streamed.body)
  assert.deepEqual(backupFiles(tp, envId), before, 'the partial upload is gone')
  assert.equal(
    ((await tp.call('GET', `/v1/environments/${envId}/backups`, { token })).json() as { items: unknown[] })
      .items.length,
    2,
  )
  // Over a real connection, sent chunked and without end: the client reads the 413 instead of a reset.
  await tp.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = tp.platform.app.server.address() as AddressInfo
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/v1/environments/${envId}/backups/import`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
        req.destroy()
      },
    )
    req.on('error', reject)
    const chunk = randomBytes(16 * 1024)
    const pump = (): void => {
      if (req.destroyed) return
      req.write(chunk, () => setImmediate(pump))
    }
    pump()
  })
  assert.equal(status, 413)
  assert.deepEqual(backupFiles(tp, envId), before)
  // Under the limit, streamed without a length: fine.
  const ok = await importArchive(
    tp,
    token,
    envId,
    Readable.from([smallArchive.subarray(0, 100), smallArchive.subarray(100)]),
  )
  assert.equal(ok.statusCode, 201, ok.body)
})

test('importing needs service.manage on the target: viewers and developers on production are refused, other workspaces are invisible', async (t) => {
  const tp = await startBackupPlatform(t)
  const { token, workspaceId } = await setUpOwner(tp)
  const staging = await addEnvironment(tp, token, workspaceId, 'shop', 'staging', 'staging')
  const production = await addEnvironment(tp, token, workspaceId, 'shop', 'main', 'production')
  const archive = await download(tp, token, (await backupNow(tp, token, staging, { files: false })).id)
  const viewer = await addMember(tp, token, workspaceId, 'viewer@example.com', 'viewer')
  const developer = await addMember(tp, token, workspaceId, 'dev@example.com', 'developer')

  const asViewer = await importArchive(tp, viewer, staging, archive)
  assert.equal(asViewer.statusCode, 403, asViewer.body)
  const devProd = await importArchive(tp, developer, production, archive)
  assert.equal(devProd.statusCode, 403, devProd.body)
  const devStaging = await importArchive(tp, developer, staging, archive)
  assert.equal(devStaging.statusCode, 201, devStaging.body)
  const noToken = await tp.platform.app.inject({
    method: 'POST',
    url: `/v1/environments/${staging}/backups/import`,
    headers: { 'content-type': 'application/octet-stream' },
    payload: archive,
  })
  assert.equal(noToken.statusCode, 401)

  // The viewer's own workspace: the owner of acme is no member there.
  const ws = await tp.call('POST', '/v1/workspaces', { token: viewer, body: { name: 'globex' } })
  assert.equal(ws.statusCode, 201, ws.body)
  const theirs = await addEnvironment(tp, viewer, (ws.json() as { id: string }).id, 'site')
  const foreign = await importArchive(tp, token, theirs, archive)
  assert.equal(foreign.statusCode, 404, foreign.body)
  assert.equal(
    (
      (await tp.call('GET', `/v1/environments/${theirs}/backups`, { token: viewer })).json() as {
        items: unknown[]
      }
    ).items.length,
    0,
  )
  // A signature cannot cover a streamed body: signed requests are refused before the upload.
  const signed = await importArchive(tp, token, staging, archive, { 'signature-input': 'sig1=()' })
  assert.equal(signed.statusCode, 400, signed.body)
})

test('format 1 archives (key kept in the row) still restore, and are refused for import', async (t) => {
  const tp = await startBackupPlatform(t)
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await addEnvironment(tp, token, workspaceId, 'shop')
  const b = await backupNow(tp, token, envId, { files: false })
  // Writes what the first format looked like, for this row: PALBK001 + IV + AES-GCM(tar.gz) + tag.
  const work = mkdtempSync(path.join(tmpdir(), 'pal-v1-'))
  t.after(() => rmSync(work, { recursive: true, force: true }))
  const content = Buffer.from('made before format 2\n')
  mkdirSync(path.join(work, 'files', 'uploads'), { recursive: true })
  writeFileSync(path.join(work, 'files', 'uploads', 'old.txt'), content)
  const manifest = {
    format: 'palisade-backup/1',
    backupId: b.id,
    environmentId: envId,
    createdAt: b.createdAt,
    services: [],
    files: ['uploads'],
    checksums: { 'files/uploads/old.txt': sha256(content) },
  }
  writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest))
  const tar = spawnSync('tar', ['--create', '--file=-', `--directory=${work}`, '.'], { maxBuffer: 1 << 24 })
  assert.equal(tar.status, 0)
  const row = await tp.platform.store.db
    .selectFrom('backups')
    .select('data_key')
    .where('id', '=', b.id)
    .executeTakeFirstOrThrow()
  const key = Buffer.from(
    createSecretBox(Buffer.from('a'.repeat(64), 'hex')).open(row.data_key, `backup:${b.id}:key`),
    'base64',
  )
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(`palisade-backup/1:${b.id}`))
  const body = Buffer.concat([cipher.update(gzipSync(tar.stdout)), cipher.final()])
  const v1 = Buffer.concat([Buffer.from('PALBK001'), iv, body, cipher.getAuthTag()])
  writeFileSync(tp.platform.services.backups.archivePath({ environmentId: envId, id: b.id }), v1)

  const restored = await tp.call('POST', `/v1/backups/${b.id}/restore`, { token })
  assert.equal(restored.statusCode, 200, restored.body)
  assert.deepEqual(readFileSync(path.join(sharedDir(tp, envId), 'uploads', 'old.txt')), content)

  const imported = await importArchive(tp, token, envId, v1)
  assert.equal(imported.statusCode, 422, imported.body)
  assert.equal(errorCode(imported), 'backup_not_importable')
})
