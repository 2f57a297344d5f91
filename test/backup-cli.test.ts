import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { runCli, startCliTour } from './support/processes.js'

const PASSWORD = 'correct horse battery staple 42'

test('a user sets a backup schedule, exports a backup and imports it back with the CLI', async (t) => {
  const { dir, env } = await startCliTour(t, { PALISADE_BACKUP_IMPORT_LIMIT: '65536' })
  const cli = async (args: string[], input?: string) => {
    const r = await runCli(args, env, input)
    return { ...r, all: r.stdout + r.stderr }
  }
  assert.equal(
    (await cli(['login', '--email', 'owner@example.com', '--password-stdin'], PASSWORD + '\n')).code,
    0,
  )
  assert.equal((await cli(['projects', 'create', 'shop'])).code, 0)
  assert.equal((await cli(['envs', 'create', 'main', '--project', 'shop'])).code, 0)

  // Schedules.
  const off = await cli(['backup', 'schedule', 'shop/main'])
  assert.equal(off.code, 0, off.all)
  assert.match(off.stdout, /Scheduled backups are off\./)
  const on = await cli(['backup', 'schedule', 'shop/main', '--every', '12', '--keep', '3', '--no-files'])
  assert.equal(on.code, 0, on.all)
  assert.match(on.stdout, /Backups every 12 h, keeping 3, without files; next at \d{4}-\d\d-\d\dT/)
  const json = JSON.parse((await cli(['--json', 'backup', 'schedule', 'shop/main'])).stdout) as Record<
    string,
    unknown
  >
  assert.deepEqual([json['enabled'], json['everyHours'], json['keep'], json['files']], [true, 12, 3, false])
  const tooOften = await cli(['backup', 'schedule', 'shop/main', '--every', '0'])
  assert.notEqual(tooOften.code, 0)
  assert.match(tooOften.all, /everyHours/)
  const disabled = await cli(['backup', 'schedule', 'shop/main', '--disable'])
  assert.equal(disabled.code, 0, disabled.all)
  assert.match(disabled.stdout, /Scheduled backups are off\./)

  // Export, delete, import, restore.
  const created = await cli(['--json', 'backup', 'create', '--env', 'shop/main', '--no-files', '--wait'])
  assert.equal(created.code, 0, created.all)
  const b = JSON.parse(created.stdout) as { id: string; status: string; sha256: string }
  assert.equal(b.status, 'succeeded')
  const file = path.join(dir, 'export.pbk')
  assert.equal((await cli(['backup', 'download', b.id, '-o', file])).code, 0)
  assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), b.sha256)
  assert.equal((await cli(['backup', 'delete', b.id])).code, 0)
  const imported = await cli(['backup', 'import', 'shop/main', file])
  assert.equal(imported.code, 0, imported.all)
  const id = /as backup (bkp_[a-z0-9]+)/.exec(imported.stdout)?.[1]
  assert.ok(id, imported.stdout)
  assert.match(imported.stdout, /made in env_[a-z0-9]+/)
  const list = await cli(['backup', 'list', '--env', 'shop/main'])
  assert.match(list.stdout, new RegExp(`${id}\\s+succeeded\\s+\\S+\\s+import`))
  const restored = await cli(['backup', 'restore', id])
  assert.equal(restored.code, 0, restored.all)

  // Refusals: a damaged file, a file over the server's import limit, no file.
  const damaged = path.join(dir, 'damaged.pbk')
  const bytes = readFileSync(file)
  bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0xff
  writeFileSync(damaged, bytes)
  const bad = await cli(['backup', 'import', 'shop/main', damaged])
  assert.notEqual(bad.code, 0)
  assert.match(bad.all, /damaged or was tampered with/)
  const big = path.join(dir, 'big.pbk')
  writeFileSync(big, Buffer.alloc(100_000))
  const tooBig = await cli(['backup', 'import', 'shop/main', big])
  assert.notEqual(tooBig.code, 0)
  assert.match(tooBig.all, /import limit/)
  const missing = await cli(['backup', 'import', 'shop/main', path.join(dir, 'nope.pbk')])
  assert.equal(missing.code, 2, missing.all)
  const after = JSON.parse((await cli(['--json', 'backup', 'list', '--env', 'shop/main'])).stdout) as {
    items: unknown[]
  }
  assert.equal(after.items.length, 1)
})
