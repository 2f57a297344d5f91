import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { removeSandboxes } from './services-helpers.js'
import { runCli, removeAfterServers, startServer } from './support/processes.js'

const PASSWORD = 'correct horse battery staple 42'
const asRoot = process.getuid?.() === 0

test(
  'a user provisions Redis, reads its credentials, backs the environment up and downloads the archive with the CLI',
  { skip: asRoot ? false : 'needs root' },
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'palisade-svc-'))
    removeAfterServers(t, dir)
    // Environment users must be able to traverse the parents of the data dir (the deploy driver checks).
    chmodSync(dir, 0o711)
    const dataDir = path.join(dir, 'data')
    const serverEnv = {
      PALISADE_DATA_DIR: dataDir,
      PALISADE_EDGE_HTTP_LISTEN: '127.0.0.1:0',
      PALISADE_EDGE_HTTPS_LISTEN: '127.0.0.1:0',
    }
    const server = await startServer(t, serverEnv)
    const env = { HOME: path.join(dir, 'home'), PALISADE_API_URL: server.apiUrl, PALISADE_DATA_DIR: dataDir }
    assert.equal(
      (
        await runCli(
          ['setup', '--email', 'owner@example.com', '--workspace', 'acme', '--password-stdin'],
          env,
          PASSWORD + '\n',
        )
      ).code,
      0,
    )
    assert.equal(
      (await runCli(['login', '--email', 'owner@example.com', '--password-stdin'], env, PASSWORD + '\n'))
        .code,
      0,
    )
    assert.equal((await runCli(['projects', 'create', 'shop'], env)).code, 0)
    assert.equal((await runCli(['envs', 'create', 'main', '--project', 'shop'], env)).code, 0)
    const envs = JSON.parse((await runCli(['--json', 'envs', 'list', '--project', 'shop'], env)).stdout) as {
      items: Array<{ id: string }>
    }

    const created = await runCli(
      ['services', 'create', 'redis', '--env', 'shop/main', '--name', 'cache', '--wait'],
      env,
    )
    assert.equal(created.code, 0, created.stdout + created.stderr)
    assert.match(created.stdout, /Service cache \(redis 7\.\d+\) is running\./)
    const list = await runCli(['services', 'list', '--env', 'shop/main'], env)
    assert.match(list.stdout, /cache\s+redis 7\.\d+\s+running/)
    const id = /svc_[a-z0-9]+/.exec(list.stdout)?.[0] ?? ''
    const creds = await runCli(['--json', 'services', 'credentials', id], env)
    assert.equal(creds.code, 0, creds.stdout + creds.stderr)
    assert.match((JSON.parse(creds.stdout) as { url: string }).url, /^redis:\/\/[^@]+@localhost\/0\?path=%2F/)

    const backup = await runCli(['--json', 'backup', 'create', '--env', 'shop/main', '--wait'], env)
    assert.equal(backup.code, 0, backup.stdout + backup.stderr)
    const b = JSON.parse(backup.stdout) as { id: string; status: string; sha256: string }
    assert.equal(b.status, 'succeeded')
    const out = path.join(dir, 'shop.pbk')
    assert.equal((await runCli(['backup', 'download', b.id, '-o', out], env)).code, 0)
    assert.equal(createHash('sha256').update(readFileSync(out)).digest('hex'), b.sha256)

    // A restart of `palisade serve` stops the server with it and starts it again (startAll) with its data.
    const pid = (
      JSON.parse((await runCli(['--json', 'services', 'show', id], env)).stdout) as {
        process: { pid: number }
      }
    ).process.pid
    await server.stop()
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the server stopped with the platform')
    await startServer(t, serverEnv, server.port)
    // Registered after the servers' own stop hooks, so it runs once they are gone.
    t.after(() => removeSandboxes(envs.items.map((e) => e.id)))
    const shown = await runCli(['--json', 'services', 'show', id], env)
    const after = JSON.parse(shown.stdout) as { status: string; process: { pid: number } | null }
    assert.equal(after.status, 'running')
    assert.ok(after.process && after.process.pid !== pid)

    const stopped = await runCli(['services', 'delete', id], env)
    assert.match(stopped.stdout, /data is kept/)
    assert.equal((await runCli(['services', 'delete', id, '--delete-data'], env)).code, 0)
  },
)
