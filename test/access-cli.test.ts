import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { createShopEnvironment, setUpOwner, startPlatform } from './support/platform.js'
import { runCli } from './support/processes.js'

interface Access {
  ipAllow: string[]
  ipGroups: string[]
  password: { username: string } | null
}

test('palisade access update changes only what it names; the stored password stays', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await createShopEnvironment(tp, token, workspaceId, { name: 'main' })
  const api = await tp.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const env = { PALISADE_API_URL: api, PALISADE_TOKEN: token }
  const cli = (args: string[], input?: string) => runCli(args, env, input)
  const show = async (): Promise<Access> => {
    const r = await cli(['--json', 'access', 'show', envId])
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout) as Access
  }

  const set = await cli(['access', 'set', envId, '--password-user', 'preview'], 'a-long-preview-passphrase\n')
  assert.equal(set.code, 0, set.stderr)
  const accessRow = (): unknown => {
    const db = new Database(path.join(tp.store.dataDir, 'palisade.db'), { readonly: true })
    try {
      return db.prepare('SELECT * FROM environment_access WHERE environment_id = ?').get(envId)
    } finally {
      db.close()
    }
  }
  const before = accessRow() as Record<string, unknown>
  assert.ok(before, 'the access row exists')

  const upd = await cli(['access', 'update', envId, '--ip-allow', '10.0.0.0/8', '--ip-allow', '192.0.2.7'])
  assert.equal(upd.code, 0, upd.stderr)
  assert.deepEqual(await show(), {
    ipAllow: ['10.0.0.0/8', '192.0.2.7/32'],
    ipGroups: [],
    password: { username: 'preview' },
  })
  const after = accessRow() as Record<string, unknown>
  for (const [k, v] of Object.entries(before))
    if (/password/.test(k)) assert.equal(after[k], v, `${k} is untouched by an IP change`)

  const off = await cli(['access', 'update', envId, '--no-password'])
  assert.equal(off.code, 0, off.stderr)
  assert.deepEqual(await show(), { ipAllow: ['10.0.0.0/8', '192.0.2.7/32'], ipGroups: [], password: null })
  const clear = await cli(['access', 'update', envId, '--clear-ip-allow'])
  assert.equal(clear.code, 0, clear.stderr)
  assert.deepEqual((await show()).ipAllow, [])

  // Bad input: nothing named, an option with its opposite, a CIDR the API refuses.
  const none = await cli(['access', 'update', envId])
  assert.notEqual(none.code, 0)
  assert.match(none.stderr, /nothing to change/)
  const both = await cli(['access', 'update', envId, '--ip-allow', '10.0.0.0/8', '--clear-ip-allow'])
  assert.notEqual(both.code, 0)
  assert.match(both.stderr, /opposite/)
  const bad = await cli(['access', 'update', envId, '--ip-allow', '10.0.0.0/99'])
  assert.notEqual(bad.code, 0)
  assert.match(bad.stderr, /ipAllow|CIDR|cidr/i)
  assert.deepEqual((await show()).ipAllow, [], 'a refused update changed nothing')
})
