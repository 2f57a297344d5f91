import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { sandboxName, removeSandbox } from '../src/deploy/index.js'
import { nodeApp } from '../src/deploy/testing.js'
import { startDeployPlatform, type DeployFixture } from './deploy-helpers.js'
import { environmentUser, mariadbSql, redisCli, type EnvironmentUser } from './services-helpers.js'
import type { BackupView } from './backup-helpers.js'

const asRoot = process.getuid?.() === 0
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

async function provision(f: DeployFixture, type: string): Promise<void> {
  const res = await f.call('POST', `/v1/environments/${f.envId}/services`, { type })
  assert.equal(res.statusCode, 201, res.body)
  const id = (res.json() as { id: string }).id
  const deadline = Date.now() + 240_000
  for (;;) {
    const s = (await f.call('GET', `/v1/services/${id}`)).json() as { status: string; reason: string | null }
    if (s.status === 'running') return
    assert.notEqual(s.status, 'failed', s.reason ?? '')
    assert.ok(Date.now() < deadline, `${type} still ${s.status}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

async function waitBackup(f: DeployFixture, id: string): Promise<BackupView> {
  for (;;) {
    const b = (await f.call('GET', `/v1/backups/${id}`)).json() as BackupView
    if (b.status !== 'running') return b
    await new Promise((r) => setTimeout(r, 200))
  }
}

function importInto(f: DeployFixture, archive: Buffer) {
  return f.platform.app.inject({
    method: 'POST',
    url: `/v1/environments/${f.envId}/backups/import`,
    headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/octet-stream' },
    payload: archive,
  })
}

/** Polls the environment's host through the edge until `done` settles; answers every status seen, in order. */
async function watchEdge(f: DeployFixture, done: Promise<unknown>): Promise<number[]> {
  const seen: number[] = []
  let finished = false
  void done.finally(() => (finished = true))
  while (!finished) {
    seen.push((await f.get('/')).status)
    await new Promise((r) => setTimeout(r, 5))
  }
  return seen
}

test(
  'an exported archive imported after its row is gone restores identical data, behind maintenance at the edge, into its own or another environment',
  { skip: asRoot ? false : 'needs root: services and apps run as the environment user' },
  async (t) => {
    const p = await startDeployPlatform(t, { isolate: true })
    const a = await p.addApp()
    const b = await p.addApp()
    t.after(async () => {
      for (const f of [a, b]) await removeSandbox(sandboxName(f.envId))
    })
    for (const f of [a, b]) {
      f.repo.commit(nodeApp('v1'))
      assert.equal((await f.deploy()).status, 'succeeded')
      await Promise.all([provision(f, 'mariadb'), provision(f, 'redis')])
      assert.equal((await f.get('/')).status, 200)
    }
    const varsA = await p.platform.services.connectionVariables(a.envId)
    const varsB = await p.platform.services.connectionVariables(b.envId)
    const userOf = (envId: string) => environmentUser(p.platform.config.dataDir, envId)
    const userA = userOf(a.envId)
    const userB = userOf(b.envId)
    // Enough rows that a restore takes a moment the edge can be watched through.
    const seed = await mariadbSql(
      varsA,
      "CREATE TABLE items AS SELECT seq AS id, CONCAT('row ', seq, ' ✓') AS label, REPEAT('x', 200) AS pad FROM seq_1_to_150000; ALTER TABLE items ADD PRIMARY KEY (id);",
      userA,
    )
    assert.equal(seed.code, 0, seed.out)
    assert.equal((await redisCli(varsA, ['SET', 'counter', '41'], userA)).out.trim(), 'OK')
    const sum = async (vars: Record<string, string>, user: EnvironmentUser): Promise<string> =>
      (
        await mariadbSql(
          vars,
          'SELECT COUNT(*), SUM(CRC32(CONCAT_WS(0x1f, id, label, pad))), MAX(label) FROM items',
          user,
        )
      ).out.trim()
    const before = await sum(varsA, userA)
    assert.match(before, /^150000\s+\d+\s+row 99999 ✓$/)

    const created = await a.call('POST', `/v1/environments/${a.envId}/backups`, { files: false })
    assert.equal(created.statusCode, 201, created.body)
    const backup = await waitBackup(a, (created.json() as { id: string }).id)
    assert.equal(backup.status, 'succeeded', backup.reason ?? '')
    const dl = await a.call('GET', `/v1/backups/${backup.id}/download`)
    assert.equal(dl.statusCode, 200)
    const archive = dl.rawPayload
    assert.equal((await a.call('DELETE', `/v1/backups/${backup.id}`)).statusCode, 204)

    // Damage, then bring the archive back in and restore it while watching the site.
    assert.equal(
      (await mariadbSql(varsA, 'DELETE FROM items WHERE id > 10; CREATE TABLE later (x INT);', userA)).code,
      0,
    )
    await redisCli(varsA, ['SET', 'counter', '99'], userA)
    const imported = await importInto(a, archive)
    assert.equal(imported.statusCode, 201, imported.body)
    const ib = imported.json() as BackupView
    assert.equal(ib.origin, 'import')
    assert.equal(ib.sha256, sha256(archive))
    assert.deepEqual(ib.contents.services.map((s) => s.name).sort(), ['mariadb', 'redis'])

    const restore = a.call('POST', `/v1/backups/${ib.id}/restore`)
    const seen = await watchEdge(a, restore)
    const restored = await restore
    assert.equal(restored.statusCode, 200, restored.body)
    assert.ok(
      seen.includes(503),
      `the edge answered 503 during the restore (saw ${[...new Set(seen)].join(', ')})`,
    )
    assert.ok(
      seen.every((s) => s === 200 || s === 503),
      `only 200 or 503 (saw ${[...new Set(seen)].join(', ')})`,
    )
    assert.equal((await a.get('/')).status, 200, 'serving again after the restore')
    assert.equal(await sum(varsA, userA), before, 'data identical')
    assert.match((await mariadbSql(varsA, 'SELECT COUNT(*) FROM later', userA)).out, /doesn't exist/)
    assert.equal((await redisCli(varsA, ['GET', 'counter'], userA)).out.trim(), '41')
    const status = (await a.call('GET', `/v1/environments/${a.envId}/status`)).json() as {
      maintenance: boolean
    }
    assert.equal(status.maintenance, false)

    // Into another project's environment: its own services by the same names receive the data.
    const intoB = await importInto(b, archive)
    assert.equal(intoB.statusCode, 201, intoB.body)
    assert.equal((intoB.json() as BackupView).sourceEnvironmentId, a.envId)
    // An environment already in maintenance stays there after a restore.
    const on = await b.call('POST', `/v1/environments/${b.envId}/jobs`, { type: 'maintenance-on' })
    assert.ok(on.statusCode < 300, on.body)
    assert.equal((await b.get('/')).status, 503)
    const rb = await b.call('POST', `/v1/backups/${(intoB.json() as BackupView).id}/restore`)
    assert.equal(rb.statusCode, 200, rb.body)
    assert.equal((await b.get('/')).status, 503, 'maintenance was on before, so it stays on')
    assert.equal(await sum(varsB, userB), before, 'the other environment holds identical data')
    assert.equal((await redisCli(varsB, ['GET', 'counter'], userB)).out.trim(), '41')
    await b.call('POST', `/v1/environments/${b.envId}/jobs`, { type: 'maintenance-off' })
    assert.equal((await b.get('/')).status, 200)
  },
)
