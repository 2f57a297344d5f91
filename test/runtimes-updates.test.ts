import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { eventually } from '../src/deploy/testing.js'
import type { Deployment } from '../src/deploy/index.js'
import {
  catalogFile,
  compareVersions,
  installNodeVersion,
  parseVersion,
  shippedCatalog,
  type RuntimeCatalog,
} from '../src/runtimes/index.js'
import { startDeployPlatform, type DeployFixture } from './deploy-helpers.js'

/**
 * Issue #9 acceptance, end to end with real Node.js versions from the npm registry: an environment on
 * `node@20` deployed at an older patch is moved to the newer patch by the scheduler inside its maintenance
 * window, while the edge keeps serving it without a failed request; `process.version` inside the app shows
 * the new version; the audit log shows the platform's events; an app that fails its health check on the new
 * version keeps its old release, the failure is audited and mailed, and it is not retried in a loop.
 *
 * The two versions are downloaded once into `$TMPDIR/palisade-node-cache` (checksums checked against the
 * shipped catalog) and hard-linked into each run's data directory.
 */

const OLD = '20.19.5'
const NEW = '20.19.6'
const CACHE = path.join(process.env['TMPDIR'] ?? tmpdir(), 'palisade-node-cache')
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const

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

/** The shipped catalog as it was when `latest` was the newest 20.x (later 20.x releases left out). */
function catalogUpTo(
  latest: string,
  extra: (c: RuntimeCatalog) => RuntimeCatalog = (c) => c,
): RuntimeCatalog {
  const shipped = shippedCatalog()
  const node = shipped.runtimes['node']!
  const cut = parseVersion(latest)!
  const versions = node.versions.filter((v) => {
    const p = parseVersion(v.version)!
    return p.major !== 20 || compareVersions(p, cut) <= 0
  })
  return extra({
    ...shipped,
    generatedAt: new Date().toISOString(),
    runtimes: { ...shipped.runtimes, node: { ...node, versions } },
  })
}

function writeCatalog(dataDir: string, catalog: RuntimeCatalog): void {
  mkdirSync(path.dirname(catalogFile(dataDir)), { recursive: true })
  writeFileSync(catalogFile(dataDir), JSON.stringify(catalog))
}

/** An app answering its `process.version`; `refuse` makes it exit at start on that version. */
function versionApp(refuse?: string): Record<string, string> {
  return {
    'package.json': JSON.stringify({
      name: 'version-app',
      private: true,
      scripts: { start: 'node server.js' },
    }),
    'server.js': `
const http = require('node:http')
${refuse ? `if (process.version === 'v${refuse}') { console.error('this app does not run on ${refuse}'); process.exit(1) }` : ''}
http.createServer((req, res) => res.end(process.version)).listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
`,
  }
}

function mails(dataDir: string): string[] {
  const dir = path.join(dataDir, 'outbox')
  if (!existsSync(dir)) return []
  return readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8').replace(/\r?\n[ \t]+/g, ' '))
}

const subjects = (dataDir: string): string[] =>
  mails(dataDir).map((m) => /^Subject: (.*)$/m.exec(m)?.[1] ?? '')

async function windowOf(f: DeployFixture, at: Date, minutes: number): Promise<void> {
  const res = await f.call('PATCH', `/v1/environments/${f.envId}`, {
    maintenanceWindow: {
      day: DAYS[at.getUTCDay()],
      start: at.toISOString().slice(11, 16),
      durationMinutes: minutes,
      timezone: 'UTC',
    },
  })
  assert.equal(res.statusCode, 200, res.body)
}

async function auditActions(
  f: DeployFixture,
): Promise<Array<{ action: string; actor: string; outcome: string }>> {
  const rows = await f.platform.store.db
    .selectFrom('audit_events')
    .select(['action', 'actor', 'outcome'])
    .where('environment_id', '=', f.envId)
    .where('action', 'like', 'environment.runtime.%')
    .orderBy('seq')
    .execute()
  return rows.map((r) => ({
    action: r.action,
    actor: (JSON.parse(r.actor) as { type: string }).type,
    outcome: r.outcome,
  }))
}

test('the scheduler moves node@20 apps to the new patch in their window, with zero failed requests, and keeps the old release when the new version fails', async (t) => {
  const p = await startDeployPlatform(t, {
    runtimePinning: true,
    isolate: process.getuid?.() === 0,
    deploy: { drainMs: 500 },
  })
  const dataDir = p.platform.config.dataDir
  await seedNode(dataDir, OLD)
  await seedNode(dataDir, NEW)
  // At deploy time OLD is the newest 20.x; 20.19.4 carries an integrity the registry will not match.
  writeCatalog(
    dataDir,
    catalogUpTo(OLD, (c) => ({
      ...c,
      runtimes: {
        ...c.runtimes,
        node: {
          ...c.runtimes['node']!,
          versions: c.runtimes['node']!.versions.map((v) =>
            v.version === '20.19.4' ? { ...v, integrity: `sha512-${'A'.repeat(86)}==` } : v,
          ),
        },
      },
    })),
  )

  const good = await p.addApp()
  const bad = await p.addApp()
  good.repo.commit(versionApp())
  bad.repo.commit(versionApp(NEW))
  // Windows far from now: nothing may happen before the test opens them.
  const later = new Date(Date.now() + 3 * 86_400_000)
  await windowOf(good, later, 60)
  await windowOf(bad, later, 60)

  for (const f of [good, bad]) {
    const d = await f.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
    assert.equal(d.runtimeVersion, OLD, 'node@20 is pinned to the newest 20.x of the catalog')
    assert.equal((await f.get('/')).body, `v${OLD}`)
  }

  await t.test(
    'a version whose install fails fails the deployment with the reason, nothing else changes',
    async () => {
      const pinned = await p.addApp({ runtime: 'node@20.19.4' })
      pinned.repo.commit(versionApp())
      const d = await pinned.deploy()
      assert.equal(d.status, 'failed')
      assert.match(d.reason ?? '', /installing node 20\.19\.4 failed: .*integrity differs from the catalog/)
    },
  )

  // A newer patch appears in the catalog.
  writeCatalog(dataDir, catalogUpTo(NEW))
  const plan = (await good.call('GET', `/v1/environments/${good.envId}/runtime-updates`)).json() as {
    current: string
    steps: Array<{ kind: string; version: string; due: string }>
  }
  assert.equal(plan.current, OLD)
  assert.equal(plan.steps[0]?.kind, 'patch')
  assert.equal(plan.steps[0]?.version, NEW)

  await t.test('postponing past the policy limit is refused; within it, it is stored and shown', async () => {
    const tooLate = new Date(Date.now() + 60 * 86_400_000).toISOString()
    const refused = await good.call('POST', `/v1/environments/${good.envId}/runtime-updates/postpone`, {
      until: tooLate,
    })
    assert.equal(refused.statusCode, 422, refused.body)
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'postpone_limit')
    const until = new Date(Date.now() + 8 * 86_400_000).toISOString()
    const ok = await good.call('POST', `/v1/environments/${good.envId}/runtime-updates/postpone`, { until })
    assert.equal(ok.statusCode, 200, ok.body)
    const held = ok.json() as { postponedUntil: string; steps: Array<{ due: string; postponed?: boolean }> }
    assert.equal(held.postponedUntil, until)
    assert.equal(held.steps[0]?.postponed, true)
    assert.ok(Date.parse(held.steps[0]!.due) >= Date.parse(until))
    const lifted = await good.call('POST', `/v1/environments/${good.envId}/runtime-updates/postpone`, {
      until: null,
    })
    assert.equal((lifted.json() as { postponedUntil: string | null }).postponedUntil, null)
  })

  // The update is announced before its window, once.
  await p.platform.runtimeUpdates.tick()
  await p.platform.runtimeUpdates.tick()
  const announced = subjects(dataDir).filter((s) => s.includes(`node ${NEW} is planned`))
  assert.equal(announced.length, 2, `one notice per environment: ${subjects(dataDir).join(' | ')}`)
  assert.equal(
    subjects(dataDir).filter((s) => s.includes('end of life')).length,
    2,
    'node 20 is past its EOL',
  )

  // The window opens; the edge is polled the whole time.
  const opened = new Date(Date.now() - 60_000)
  await windowOf(good, opened, 30)
  await windowOf(bad, opened, 30)
  let polling = true
  let served = 0
  const failures: string[] = []
  const poller = (async () => {
    while (polling) {
      const r = await good.get('/')
      if (r.status === 200 && r.body.startsWith('v20.19.')) served++
      else failures.push(`${r.status} ${r.body.slice(0, 80)}`)
    }
  })()
  const stop = p.platform.runtimeUpdates.start({ intervalMs: 250 })
  t.after(stop)

  await eventually(async () => (await good.get('/')).body === `v${NEW}`, 90_000, `the app on ${NEW}`)
  await eventually(
    async () => (await auditActions(good)).some((e) => e.action === 'environment.runtime.update.succeed'),
    30_000,
    'the success event',
  )
  await eventually(
    async () => (await auditActions(bad)).some((e) => e.action === 'environment.runtime.update.fail'),
    90_000,
    'the failure event',
  )
  await new Promise((r) => setTimeout(r, 1_000)) // the old release drains; the poller keeps going
  polling = false
  await poller
  stop()
  assert.deepEqual(failures, [], 'no request failed during the update')
  assert.ok(served > 20, `the edge answered throughout (${served} requests)`)

  // The good app runs on NEW, recorded on its deployment; the platform wrote the events.
  const goodDeps = (await good.call('GET', `/v1/environments/${good.envId}/deployments`)).json() as {
    items: Deployment[]
  }
  const update = goodDeps.items.find((d) => d.kind === 'runtime-update')
  assert.equal(update?.status, 'succeeded')
  assert.equal(update?.runtimeVersion, NEW)
  t.diagnostic(
    `runtime update applied in ${Date.parse(update!.finishedAt!) - Date.parse(update!.startedAt!)} ms (copy, build, start, health check, switch)`,
  )
  assert.deepEqual(
    (await auditActions(good)).filter((e) => e.action.startsWith('environment.runtime.update')),
    [
      { action: 'environment.runtime.update.start', actor: 'platform', outcome: 'success' },
      { action: 'environment.runtime.update.succeed', actor: 'platform', outcome: 'success' },
    ],
  )

  // The bad app failed its health check on NEW: its old release still serves OLD.
  assert.equal((await bad.get('/')).body, `v${OLD}`)
  assert.deepEqual(
    (await auditActions(bad)).filter((e) => e.action.startsWith('environment.runtime.update')),
    [
      { action: 'environment.runtime.update.start', actor: 'platform', outcome: 'success' },
      { action: 'environment.runtime.update.fail', actor: 'platform', outcome: 'failure' },
    ],
  )
  const badPlan = (await bad.call('GET', `/v1/environments/${bad.envId}/runtime-updates`)).json() as {
    current: string
    retryAfter: string | null
  }
  assert.equal(badPlan.current, OLD)
  assert.ok(badPlan.retryAfter && Date.parse(badPlan.retryAfter) > Date.now(), 'backs off to the next window')

  // Mails: applied once, failed once.
  const all = subjects(dataDir)
  assert.equal(all.filter((s) => s.includes(`now runs on node ${NEW}`)).length, 1, all.join(' | '))
  assert.equal(all.filter((s) => s.includes(`the update to node ${NEW} failed`)).length, 1, all.join(' | '))
  assert.ok(mails(dataDir).every((m) => /^To: owner@example\.com$/m.test(m)))

  // No retry loop: more passes inside the same window start nothing new.
  for (let i = 0; i < 3; i++) await p.platform.runtimeUpdates.tick()
  const badDeps = (await bad.call('GET', `/v1/environments/${bad.envId}/deployments`)).json() as {
    items: Deployment[]
  }
  assert.equal(badDeps.items.filter((d) => d.kind === 'runtime-update').length, 1)
  assert.equal(subjects(dataDir).length, all.length, 'no notification twice')

  // A rollback returns to the release's own pinned version, and the scheduler leaves it for this window.
  const rb = await good.call('POST', `/v1/environments/${good.envId}/rollback`, {})
  assert.equal(rb.statusCode, 201, rb.body)
  const rolled = await good.waitFor((rb.json() as Deployment).id)
  assert.equal(rolled.status, 'succeeded', rolled.reason ?? '')
  assert.equal(rolled.runtimeVersion, OLD)
  assert.equal((await good.get('/')).body, `v${OLD}`)
  await p.platform.runtimeUpdates.tick()
  const after = (await good.call('GET', `/v1/environments/${good.envId}/deployments`)).json() as {
    items: Deployment[]
  }
  assert.equal(after.items.filter((d) => d.kind === 'runtime-update').length, 1)
})
