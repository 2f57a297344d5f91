import assert from 'node:assert/strict'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { edgePaths, moveLegacyEdgeFiles } from '../src/edge/index.js'
import { LocalCa } from '../src/edge/local-ca.js'
import { runCli } from './support/processes.js'
import { startPlatform } from './support/platform.js'

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-ca-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A real CA (key and certificate) made by LocalCa in a scratch dir, copied where a test wants it. */
async function makeCaFiles(t: { after(fn: () => void): void }): Promise<{ dir: string; pem: string }> {
  const scratch = tempDir(t)
  const ca = await LocalCa.open(scratch)
  return { dir: edgePaths(scratch).caDir, pem: ca.caCertPem }
}

test('the local CA is created at <data>/edge/ca/ca.crt, not under a doubled edge/edge', async (t) => {
  const data = tempDir(t)
  const ca = await LocalCa.open(data)
  assert.equal(ca.caCertPath, path.join(data, 'edge', 'ca', 'ca.crt'))
  assert.ok(existsSync(path.join(data, 'edge', 'ca', 'ca.key')))
  assert.ok(!existsSync(path.join(data, 'edge', 'edge')))
})

test('a CA left at the old <data>/edge/edge/ca is moved to <data>/edge/ca and kept (same certificate)', async (t) => {
  const data = tempDir(t)
  const made = await makeCaFiles(t)
  const legacy = path.join(data, 'edge', 'edge')
  cpSync(made.dir, path.join(legacy, 'ca'), { recursive: true })
  mkdirSync(path.join(legacy, 'certs'))
  writeFileSync(path.join(legacy, 'certs', 'main.shop.acme.localhost.crt'), 'leaf')
  const moved = await moveLegacyEdgeFiles(data)
  assert.deepEqual(moved, { moved: ['ca', 'certs'], kept: [] })
  assert.ok(!existsSync(legacy), 'the emptied old directory is removed')
  assert.ok(existsSync(path.join(data, 'edge', 'certs', 'main.shop.acme.localhost.crt')))
  const reopened = await LocalCa.open(data)
  assert.equal(reopened.caCertPem, made.pem, 'the moved CA is used, not replaced by a new one')
  // A second start has nothing to move.
  assert.deepEqual(await moveLegacyEdgeFiles(data), { moved: [], kept: [] })
})

test('when both the old and the new CA exist, the new one is kept and the old one is left for the operator', async (t) => {
  const data = tempDir(t)
  const current = await LocalCa.open(data)
  const old = await makeCaFiles(t)
  cpSync(old.dir, path.join(data, 'edge', 'edge', 'ca'), { recursive: true })
  assert.deepEqual(await moveLegacyEdgeFiles(data), { moved: [], kept: ['ca'] })
  assert.equal(readFileSync(edgePaths(data).caCert, 'utf8'), current.caCertPem)
  assert.ok(existsSync(path.join(data, 'edge', 'edge', 'ca', 'ca.key')))
})

test('a symbolic link at the old place is not followed or moved (no write through a planted link)', async (t) => {
  const data = tempDir(t)
  const elsewhere = tempDir(t)
  mkdirSync(path.join(elsewhere, 'ca'))
  writeFileSync(path.join(elsewhere, 'ca', 'ca.crt'), 'not ours')
  mkdirSync(path.join(data, 'edge', 'edge'), { recursive: true })
  symlinkSync(path.join(elsewhere, 'ca'), path.join(data, 'edge', 'edge', 'ca'))
  assert.deepEqual(await moveLegacyEdgeFiles(data), { moved: [], kept: [] })
  assert.ok(!existsSync(edgePaths(data).caDir))
  assert.ok(existsSync(path.join(elsewhere, 'ca', 'ca.crt')))
})

test('starting the platform moves an old CA before the edge opens it', async (t) => {
  const made = await makeCaFiles(t)
  const tp = await startPlatform(t, 'sqlite', (store) => {
    cpSync(made.dir, path.join(store.dataDir, 'edge', 'edge', 'ca'), { recursive: true })
    return {}
  })
  const dataDir = tp.platform.config.dataDir
  assert.equal(readFileSync(path.join(dataDir, 'edge', 'ca', 'ca.crt'), 'utf8'), made.pem)
  assert.ok(!existsSync(path.join(dataDir, 'edge', 'edge')))
})

test('palisade ca prints where the CA is and how to trust it; doctor names it too', async (t) => {
  const dir = tempDir(t)
  const dataDir = path.join(dir, 'data')
  const env = { HOME: dir, PALISADE_DATA_DIR: dataDir, PALISADE_CRS_DIR: path.join(dir, 'no-crs') }
  const before = await runCli(['ca'], env)
  assert.equal(before.code, 0, before.stderr)
  assert.match(before.stdout, /edge\/ca\/ca\.crt \(not created yet: palisade serve creates it/)

  const ca = await LocalCa.open(dataDir)
  const shown = await runCli(['ca'], env)
  assert.equal(shown.code, 0, shown.stderr)
  const caPath = path.join(dataDir, 'edge', 'ca', 'ca.crt')
  assert.equal(shown.stdout.split('\n')[0], caPath)
  assert.match(shown.stdout, /SHA-256 fingerprint [0-9A-F:]{95}/)
  assert.ok(
    shown.stdout.includes(`curl --cacert ${caPath} --resolve main.shop.acme.localhost:8443:127.0.0.1`),
  )
  assert.match(shown.stdout, /update-ca-certificates/)
  assert.match(shown.stdout, /\*\.localhost names resolve to 127\.0\.0\.1/)
  assert.equal((await runCli(['ca', '--pem'], env)).stdout.trim(), ca.caCertPem.trim())

  const doctor = JSON.parse((await runCli(['--json', 'doctor'], env)).stdout) as Array<{
    check: string
    status: string
    detail: string
  }>
  const check = doctor.find((c) => c.check === 'local-ca')
  assert.equal(check?.status, 'ok')
  assert.ok(check.detail.includes(caPath) && check.detail.includes('palisade ca'))
})
