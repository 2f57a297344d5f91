import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test, type TestContext } from 'node:test'
import { fixedClock } from '../shared/clock.js'
import type { Environment } from '../tenancy/index.js'
import { catalogFile, createRuntimes } from './runtimes.js'

function dataDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-runtimes-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const env = (runtime: string, runtimeChannel: Environment['runtimeChannel'] = 'stable'): Environment => ({
  id: 'env_x',
  workspaceId: 'wsp_x',
  projectId: 'prj_x',
  name: 'main',
  branch: 'main',
  criticality: 'production',
  runtime,
  runtimeChannel,
  host: 'main.shop.acme.localhost',
  sizing: { instances: 1, memoryMb: 512, cpu: 1 },
  maintenanceWindow: { day: 'sun', start: '02:00', durationMinutes: 120, timezone: 'UTC' },
  persistentDirs: [],
  healthCheckPath: '/',
  egress: { app: 'public', build: 'registries' },
  throttle: { requestsPerSecond: 100, burst: 200 },
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
})

const registry = (versions: Record<string, string>) => async () => ({
  versions: Object.fromEntries(Object.keys(versions).map((v) => [v, { dist: {} }])),
  time: versions,
})

test('planFor asks deploy for the current version and plans at the injected clock', async () => {
  const runtimes = createRuntimes({
    clock: fixedClock('2024-03-06T10:00:00Z'),
    currentVersion: async (e) => (e.id === 'env_x' ? '20.11.0' : null),
  })
  const plan = await runtimes.planFor(env('node@20'))
  assert.equal(plan.current, '20.11.0')
  assert.equal(plan.steps[0]?.kind, 'security')
  assert.equal(plan.steps[0]?.due, '2024-03-10T02:00:00.000Z')
})

test('without deploy, only an exact setting has a current version', async () => {
  const runtimes = createRuntimes({ clock: fixedClock('2024-03-06T10:00:00Z') })
  assert.equal((await runtimes.planFor(env('node@20'))).current, null)
  assert.equal((await runtimes.planFor(env('node@20.11.1'))).current, '20.11.1')
})

test('an environment on the deprecated channel is planned as having chosen it at end of life', async () => {
  const runtimes = createRuntimes({ clock: fixedClock('2026-06-01T10:00:00Z') })
  const stable = await runtimes.planFor(env('node@20.11.1'))
  assert.equal(stable.eol?.status, 'reached')
  assert.equal(stable.eol?.choice, undefined)
  assert.ok(stable.eol?.options.includes('deprecated channel'))
  const deprecated = await runtimes.planFor(env('node@20.11.1', 'deprecated'))
  assert.equal(deprecated.eol?.choice, 'deprecated channel')
})

test('refresh writes the catalog under the data directory and later plans use it', async (t) => {
  const dir = dataDir(t)
  const clock = fixedClock('2099-01-01T00:00:00Z')
  const runtimes = createRuntimes({ dataDir: dir, clock })
  const result = await runtimes.refresh(
    registry({ '20.99.0': '2098-12-01T00:00:00.000Z', '20.99.1': '2098-12-15T00:00:00.000Z' }),
  )
  assert.equal(result.file, catalogFile(dir))
  assert.deepEqual(result.added, ['20.99.0', '20.99.1'])
  assert.equal(statSync(result.file).mode & 0o777, 0o644)
  assert.equal(runtimes.catalog().generatedAt, '2099-01-01T00:00:00.000Z')
  // A second service (the server) reading the same data directory sees the refreshed catalog.
  const plan = await createRuntimes({ dataDir: dir, clock }).planFor(env('node@20'), { current: '20.99.0' })
  assert.equal(plan.target, '20.99.1')
})

test('a refreshed catalog older than the shipped snapshot is ignored', async (t) => {
  const dir = dataDir(t)
  const runtimes = createRuntimes({ dataDir: dir, clock: fixedClock('2000-01-01T00:00:00Z') })
  await runtimes.refresh(registry({ '20.0.0': '2023-04-18T00:00:00.000Z' }))
  assert.notEqual(runtimes.catalog().generatedAt, '2000-01-01T00:00:00.000Z')
})

test('a tampered catalog file fails loudly instead of planning from it', (t) => {
  const dir = dataDir(t)
  mkdirSync(path.dirname(catalogFile(dir)), { recursive: true })
  writeFileSync(
    catalogFile(dir),
    JSON.stringify({
      generatedAt: '2099-01-01T00:00:00Z',
      sources: [],
      runtimes: { node: { majors: [], versions: [{ version: '20.1.0; rm -rf /' }] } },
    }),
  )
  assert.throws(() => createRuntimes({ dataDir: dir }).catalog(), {
    code: 'PAL_RUNTIME_CATALOG_INVALID',
    kind: 'internal',
  })
})

test('refresh without a data directory is refused', async () => {
  await assert.rejects(createRuntimes().refresh(registry({})), { code: 'PAL_RUNTIME_REFRESH_FAILED' })
})

test('summary lists each major with its latest released version', () => {
  const rows = createRuntimes({ clock: fixedClock('2024-03-06T10:00:00Z') }).summary()
  const node20 = rows.find((r) => r.runtime === 'node' && r.major === 20)
  assert.equal(node20?.eolAt, '2026-04-30')
  assert.ok(node20?.latest && node20.latest < '20.12')
  assert.equal(rows.find((r) => r.major === 26)?.latest, null)
})
