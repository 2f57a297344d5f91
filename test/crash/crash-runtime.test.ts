import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { eventually } from '../../src/deploy/testing.js'
import {
  catalogFile,
  compareVersions,
  installNodeVersion,
  parseVersion,
  shippedCatalog,
} from '../../src/runtimes/index.js'
import { checkInvariants, createCrashRig, startSummary, type CrashRig, type Json } from './harness.js'

/**
 * Issue #19, a runtime update (the scheduler moving node@20 apps from OLD to NEW in their maintenance window)
 * follows the deploy rules across a kill -9 of the control plane: killed before its switch, the update fails
 * as interrupted and the OLD release keeps serving (no second attempt in that window); killed at or after the
 * switch, it succeeded and NEW serves; killed after the scheduler recorded the attempt but before the
 * deployment existed, the next control plane starts it again. Each time: one start and one outcome audit
 * event, one process per instance, the edge answers with the runtime of the release the status names.
 *
 * One environment per kill point, each opened to its update while the catalog does not offer NEW yet, so that
 * the update starts only on the armed control plane (the scheduler's first pass at start), never earlier.
 * The two Node.js versions come from the npm registry once, into the cache runtimes-updates.test.ts uses too.
 */
const OLD = '20.19.5'
const NEW = '20.19.6'
const CACHE = path.join(process.env['TMPDIR'] ?? tmpdir(), 'palisade-node-cache')
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
const INTERRUPTED = 'interrupted by a control-plane restart'

/** Kill points, and whether the update has succeeded after the restart. */
const POINTS: ReadonlyArray<readonly [string, boolean]> = [
  ['runtime.update-recorded', true],
  ['deploy.building', false],
  ['deploy.started', false],
  ['deploy.switch-saved', true],
  ['deploy.succeeded', true],
]

const root = process.getuid?.() === 0

async function seedNode(dataDir: string, version: string): Promise<void> {
  const cached = await installNodeVersion({ dataDir: CACHE, version, catalog: shippedCatalog() })
  const target = path.join(dataDir, 'runtimes', 'node', version)
  if (existsSync(target)) return
  mkdirSync(path.dirname(target), { recursive: true })
  try {
    execFileSync('cp', ['-al', cached.dir, target])
  } catch {
    execFileSync('cp', ['-a', cached.dir, target])
  }
}

/** The shipped catalog as it was when `latest` was the newest 20.x; written whole (the server may read it). */
function writeCatalog(dataDir: string, latest: string): void {
  const shipped = shippedCatalog()
  const node = shipped.runtimes['node']!
  const cut = parseVersion(latest)!
  const versions = node.versions.filter((v) => {
    const p = parseVersion(v.version)!
    return p.major !== 20 || compareVersions(p, cut) <= 0
  })
  const file = catalogFile(dataDir)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(
    `${file}.tmp`,
    JSON.stringify({
      ...shipped,
      generatedAt: new Date().toISOString(),
      runtimes: { ...shipped.runtimes, node: { ...node, versions } },
    }),
  )
  renameSync(`${file}.tmp`, file)
}

/** An app answering `<process.version> hello`: the edge tells which runtime serves. */
function versionApp(): Record<string, string> {
  return {
    'package.json': JSON.stringify({
      name: 'version-app',
      private: true,
      scripts: { start: 'node server.js' },
    }),
    'server.js': `
const http = require('node:http')
const server = http.createServer((req, res) => res.end(process.version + ' hello\\n'))
server.listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections() })
`,
  }
}

const farWindow = (): Json => ({
  day: DAYS[(new Date().getUTCDay() + 3) % 7],
  start: '03:00',
  durationMinutes: 30,
  timezone: 'UTC',
})

/** A window that opened two minutes ago and lasts 12 hours. */
function openWindow(): Json {
  const at = new Date(Date.now() - 120_000)
  return {
    day: DAYS[at.getUTCDay()],
    start: at.toISOString().slice(11, 16),
    durationMinutes: 720,
    timezone: 'UTC',
  }
}

async function runtimeEvents(rig: CrashRig, envId: string): Promise<string[]> {
  const res = await rig.api(
    'GET',
    `/v1/workspaces/acme/audit-events?action=environment.runtime.update.*&environment=${envId}&limit=100`,
  )
  assert.equal(res.status, 200, JSON.stringify(res.json))
  return (res.json['items'] as Json[]).map((e) => e['action'] as string)
}

async function runtimeUpdates(rig: CrashRig, envId: string): Promise<Json[]> {
  const items = (await rig.api('GET', `/v1/environments/${envId}/deployments`)).json['items'] as Json[]
  return items.filter((d) => d['kind'] === 'runtime-update')
}

describe(
  'crash safety: kill -9 of the control plane during a runtime update',
  { skip: !root && 'needs root (isolation)' },
  () => {
    test('a runtime update killed before, at and after its switch follows the deploy rules', async (t) => {
      const rig = await createCrashRig(t, { runtimePinning: true })
      let server = await rig.start()
      await seedNode(rig.dataDir, OLD)
      await seedNode(rig.dataDir, NEW)
      writeCatalog(rig.dataDir, OLD)
      await rig.bootstrap()
      rig.repo.commit(versionApp())
      // Release 1 runs OLD; every later release (the update, the next deployment) runs NEW.
      const versionOf = (release: number): string => (release === 1 ? `v${OLD}` : `v${NEW}`)
      const envs: Array<{ envId: string; host: string }> = []
      for (let i = 0; i < POINTS.length; i++)
        envs.push(
          await rig.addEnvironment(`u${i + 1}`, { runtime: 'node@20', maintenanceWindow: farWindow() }),
        )
      const first = await Promise.all(envs.map(({ envId }) => rig.deploy(envId)))
      for (const d of first) {
        const done = await rig.waitDeployment(d['id'] as string, 120_000)
        assert.equal(done['status'], 'succeeded', JSON.stringify(done))
        assert.equal(done['runtimeVersion'], OLD)
      }

      for (const [i, [point, succeeds]] of POINTS.entries()) {
        const { envId, host } = envs[i]!
        await t.test(`killed at ${point}`, async () => {
          // The window opens while NEW is not offered: nothing is due before the armed control plane starts.
          writeCatalog(rig.dataDir, OLD)
          const patched = await rig.api('PATCH', `/v1/environments/${envId}`, {
            maintenanceWindow: openWindow(),
          })
          assert.equal(patched.status, 200, JSON.stringify(patched.json))
          await server.kill9()
          writeCatalog(rig.dataDir, NEW)
          server = await rig.start(point)
          const signal = await Promise.race([
            server.ended,
            new Promise<string>((r) => setTimeout(() => r('timeout'), 90_000).unref()),
          ])
          assert.equal(signal, 'SIGKILL', `not killed at ${point}: ${server.output().slice(-2000)}`)
          server = await rig.start()

          // The scheduler's first pass settles the attempt (audited once); an attempt cut off before its
          // deployment existed is started again and runs to its end.
          const outcome = succeeds ? 'environment.runtime.update.succeed' : 'environment.runtime.update.fail'
          const events = await eventually(
            async () => {
              const e = await runtimeEvents(rig, envId)
              return e.includes(outcome) ? e : undefined
            },
            90_000,
            `the ${outcome} event`,
          ).catch(async () => {
            throw new Error(
              `no ${outcome}: ${JSON.stringify({ events: await runtimeEvents(rig, envId), updates: await runtimeUpdates(rig, envId) })}\n${server.output().slice(-3000)}`,
            )
          })
          assert.deepEqual(events, ['environment.runtime.update.start', outcome])
          const updates = await runtimeUpdates(rig, envId)
          assert.equal(updates.length, 1, JSON.stringify(updates))
          const update = updates[0]!
          assert.equal(update['status'], succeeds ? 'succeeded' : 'failed', JSON.stringify(update))
          if (!succeeds) assert.equal(update['reason'], INTERRUPTED)

          const { release } = await checkInvariants(rig, envId, host, versionOf, { auditVerify: false })
          assert.equal(release, succeeds ? update['number'] : 1)
          const plan = (await rig.api('GET', `/v1/environments/${envId}/runtime-updates`)).json
          assert.equal(plan['updating'], null, JSON.stringify(plan))
          assert.equal(plan['current'], succeeds ? NEW : OLD, JSON.stringify(plan))
          // A failed update waits for the next window: never retried in a loop.
          if (!succeeds) assert.ok(typeof plan['retryAfter'] === 'string', JSON.stringify(plan))
        })
      }

      await t.test(
        'the next deployment of every environment succeeds and the audit chain verifies',
        async () => {
          for (const { envId, host } of envs) {
            const next = await rig.waitDeployment((await rig.deploy(envId))['id'] as string, 120_000)
            assert.equal(next['status'], 'succeeded', JSON.stringify(next))
            assert.equal(next['runtimeVersion'], NEW)
            const { release } = await checkInvariants(rig, envId, host, versionOf, { auditVerify: false })
            assert.equal(release, next['number'])
            assert.equal((await runtimeUpdates(rig, envId)).length, 1, 'no update started twice')
          }
          const verify = await rig.cli(['audit', 'verify', '--workspace', 'acme'])
          assert.equal(verify.code, 0, verify.stdout + verify.stderr)
          t.diagnostic(startSummary(rig))
        },
      )
    })
  },
)
