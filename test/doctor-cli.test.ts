import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { runCli } from './support/processes.js'

interface Check {
  check: string
  status: 'ok' | 'warn' | 'fail'
  detail: string
}

test('palisade doctor reports the host as it is, and exits 1 only when a check fails', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-doctor-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const dataDir = path.join(dir, 'data')
  const env = { HOME: dir, PALISADE_DATA_DIR: dataDir, PALISADE_CRS_DIR: path.join(dir, 'no-crs') }

  const fresh = await runCli(['--json', 'doctor'], env)
  assert.equal(fresh.code, 0, fresh.stderr)
  const checks = JSON.parse(fresh.stdout) as Check[]
  const by = (name: string): Check => checks.find((c) => c.check === name) as Check
  assert.deepEqual(
    checks.map((c) => c.check),
    [
      'node',
      'isolation',
      'data-dir',
      'store',
      'waf-rules',
      'local-ca',
      'git',
      'mariadb',
      'redis',
      'postgresql',
      'host-updates',
      'processes',
      'edge-workers',
    ],
  )
  assert.equal(by('node').status, 'ok')
  assert.equal(by('git').status, 'ok')
  assert.equal(by('data-dir').status, 'warn', 'not created yet')
  assert.match(by('waf-rules').detail, /baseline/)
  assert.equal(by('isolation').status, process.getuid?.() === 0 ? 'ok' : 'warn')
  assert.match(by('host-updates').detail, /security updates|apt/)
  assert.equal(by('edge-workers').detail, 'palisade serve is not running')

  // A data directory others can read is reported.
  mkdirSync(dataDir)
  chmodSync(dataDir, 0o755)
  const open = JSON.parse((await runCli(['--json', 'doctor'], env)).stdout) as Check[]
  const dataCheck = open.find((c) => c.check === 'data-dir') as Check
  assert.equal(dataCheck.status, 'warn')
  assert.match(dataCheck.detail, /mode 755/)

  // An unreachable store fails the run.
  const down = await runCli(['doctor'], {
    ...env,
    PALISADE_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  })
  assert.equal(down.code, 1)
  assert.match(down.stdout, /store\s+fail\s+postgres unreachable/)
})
