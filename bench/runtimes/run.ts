/**
 * bench/runtimes: the issue #9 benchmark, with real Node.js versions from the npm registry.
 * 1. Installing a Node.js version (`installNodeVersion`, the function deployments use): uncached into a
 *    fresh data directory (seconds, MB downloaded) for two 20.x patches, then cached (the same call again
 *    on the same data directory).
 * 2. Applying a runtime update to a running environment: a tiny node app on `node@20` is deployed while
 *    the catalog's newest 20.x is OLD; the catalog then gains NEW, the environment's maintenance window
 *    is opened around now and the scheduler's pass (`runtimeUpdates.tick()`, what `palisade serve` runs
 *    every minute) starts the update. Measured: from the start of that pass to the first request served
 *    by the new release through the edge, while the edge is polled without pause (failed requests counted)
 *    until the old release has drained and stopped. The first update also installs NEW (downloaded from
 *    the registry by the deployment, as on a host where no environment runs NEW yet); the next `--runs`
 *    updates find NEW installed (their median is the headline figure).
 * Usage: node --import tsx bench/runtimes/run.ts [--runs 3]   (BENCH_ISOLATE=1: namespaces isolation, root only)
 * The registry needs the shell's environment (NODE_EXTRA_CA_CERTS behind a TLS-inspecting proxy).
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { DEFAULT_DEPLOY_OPTIONS, removeSandbox, sandboxName } from '../../src/deploy/index.js'
import { createRepo } from '../../src/deploy/testing.js'
import { startEdge } from '../../src/edge/testing.js'
import { createPlatform } from '../../src/main.js'
import {
  catalogFile,
  compareVersions,
  installNodeVersion,
  parseVersion,
  shippedCatalog,
  type RuntimeCatalog,
} from '../../src/runtimes/index.js'
import { removeTree } from '../../src/runtimes/install/node-installer.js'

const args = process.argv.slice(2)
const runsAt = args.indexOf('--runs')
const RUNS = runsAt >= 0 ? Number(args[runsAt + 1]) : 3
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 10) throw new Error('--runs must be 1..10')
const OLD = '20.19.5'
const NEW = '20.19.6'
const CACHED_CALLS = 5
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
const isolate = process.env['BENCH_ISOLATE'] === '1'
const MB = 1024 * 1024

const root = mkdtempSync(path.join(tmpdir(), 'pal-bench-runtimes-'))
// Environment users must pass through the temp dir to reach their releases.
if (isolate) chmodSync(root, 0o711)

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

// ------------------------------------------------------------------ 1. install

/** The platform's fetch, counting the bytes of every response body it hands back. */
function countingFetch(counter: { bytes: number }): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init)
    if (!res.body) return res
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          counter.bytes += chunk.byteLength
          out.enqueue(chunk)
        },
      }),
    )
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers })
  }
}

interface InstallFigure {
  readonly version: string
  readonly uncachedMs: number
  readonly bytes: number
  readonly cachedMs: number
}

const installDir = path.join(root, 'install')
const installs: InstallFigure[] = []
for (const version of [OLD, NEW]) {
  const counter = { bytes: 0 }
  const started = performance.now()
  const first = await installNodeVersion({
    dataDir: installDir,
    version,
    catalog: shippedCatalog(),
    fetch: countingFetch(counter),
  })
  const uncachedMs = performance.now() - started
  if (first.cached) throw new Error(`node ${version} was already installed in a fresh data dir`)
  const cached: number[] = []
  for (let i = 0; i < CACHED_CALLS; i++) {
    const t = performance.now()
    const again = await installNodeVersion({ dataDir: installDir, version, catalog: shippedCatalog() })
    cached.push(performance.now() - t)
    if (!again.cached) throw new Error(`node ${version} was downloaded again`)
  }
  const figure = { version, uncachedMs, bytes: counter.bytes, cachedMs: median(cached) }
  installs.push(figure)
  console.log(
    `install node ${version}: uncached ${(uncachedMs / 1000).toFixed(2)} s (${(counter.bytes / MB).toFixed(1)} MB downloaded), cached ${figure.cachedMs.toFixed(2)} ms (median of ${CACHED_CALLS})`,
  )
}

// ------------------------------------------------------------------ 2. update a running environment

const dataDir = path.join(root, 'data')
// Only OLD: the first update downloads NEW itself.
for (const version of [OLD]) {
  const target = path.join(dataDir, 'runtimes', 'node', version)
  mkdirSync(path.dirname(target), { recursive: true })
  execFileSync('cp', ['-al', path.join(installDir, 'runtimes', 'node', version), target])
}

/** The shipped catalog as it was when `latest` was the newest 20.x (later 20.x releases left out). */
function catalogUpTo(latest: string): RuntimeCatalog {
  const shipped = shippedCatalog()
  const node = shipped.runtimes['node']!
  const cut = parseVersion(latest)!
  const versions = node.versions.filter((v) => {
    const p = parseVersion(v.version)!
    return p.major !== 20 || compareVersions(p, cut) <= 0
  })
  return {
    ...shipped,
    generatedAt: new Date().toISOString(),
    runtimes: { ...shipped.runtimes, node: { ...node, versions } },
  }
}
function writeCatalog(catalog: RuntimeCatalog): void {
  mkdirSync(path.dirname(catalogFile(dataDir)), { recursive: true })
  writeFileSync(catalogFile(dataDir), JSON.stringify(catalog))
}
writeCatalog(catalogUpTo(OLD))

const config = loadConfig(
  {},
  {
    dataDir,
    masterKey: 'b'.repeat(64),
    logLevel: 'silent',
    gitLocalRoots: root,
    runtimePinning: 'on',
  },
)
let setupToken = ''
const platform = await createPlatform(config, {
  announce: (l) => (setupToken = l.split(': ').pop() ?? ''),
  deploy: { isolate, options: { throttle: { requestsPerSecond: 0, burst: 0 } } },
})
const edge = await startEdge()
await platform.deploy.attachRoutes(edge.edge.routes)

let token = ''
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bench script reads loosely shaped JSON
async function call(method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown): Promise<any> {
  const res = await platform.app.inject({
    method,
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body === undefined ? {} : { payload: body as string }),
  })
  if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
  return res.json()
}

function get(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: edge.httpPort, path: '/', headers: { host }, agent: false },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        res.on('error', () => resolve({ status: -1, body: '' }))
      },
    )
    req.on('error', (e) => resolve({ status: -1, body: e.message }))
    req.end()
  })
}

async function setWindow(envId: string, at: Date, minutes: number): Promise<void> {
  await call('PATCH', `/v1/environments/${envId}`, {
    maintenanceWindow: {
      day: DAYS[at.getUTCDay()],
      start: at.toISOString().slice(11, 16),
      durationMinutes: minutes,
      timezone: 'UTC',
    },
  })
}

const APP = {
  'package.json': JSON.stringify({
    name: 'version-app',
    private: true,
    scripts: { start: 'node server.js' },
  }),
  'server.js': `
const http = require('node:http')
http.createServer((req, res) => res.end(process.version)).listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
`,
}

const setup = await call('POST', '/v1/setup', {
  token: setupToken,
  email: 'b@example.com',
  password: 'correct horse battery staple 42',
  workspace: 'acme',
})
token = (
  await call('POST', '/v1/sessions', { email: 'b@example.com', password: 'correct horse battery staple 42' })
).token

interface App {
  readonly envId: string
  readonly host: string
}
const apps: App[] = []
const firstDeploys: number[] = []
// Windows far from now: nothing may move before the bench opens one.
const later = new Date(Date.now() + 3 * 86_400_000)
for (let i = 0; i <= RUNS; i++) {
  const repo = createRepo(path.join(root, 'work', `app${i}`))
  repo.commit(APP, 'initial')
  const project = await call('POST', `/v1/workspaces/${setup.workspace.id}/projects`, {
    name: `app${i}`,
    repository: repo.dir,
    defaultRuntime: 'node@20',
  })
  const env = await call('POST', `/v1/projects/${project.id}/environments`, {
    name: 'main',
    healthCheckPath: '/health',
  })
  await setWindow(env.id, later, 60)
  const started = performance.now()
  const d = await call('POST', `/v1/environments/${env.id}/deployments`, {})
  for (;;) {
    const cur = await call('GET', `/v1/deployments/${d.id}`)
    if (cur.status === 'failed') throw new Error(`deployment on ${OLD} failed: ${cur.reason}`)
    if (cur.status === 'succeeded') {
      if (cur.runtimeVersion !== OLD) throw new Error(`pinned to ${cur.runtimeVersion}, not ${OLD}`)
      break
    }
    await sleep(20)
  }
  firstDeploys.push(performance.now() - started)
  const served = await get(env.host)
  if (served.body !== `v${OLD}`) throw new Error(`the app answers ${served.status} ${served.body}`)
  apps.push({ envId: env.id, host: env.host })
}
console.log(
  `first deploy on node@20 → ${OLD} (installed): median ${(median(firstDeploys) / 1000).toFixed(2)} s over ${apps.length}`,
)

// A newer patch appears in the catalog.
writeCatalog(catalogUpTo(NEW))

interface UpdateFigure {
  readonly toServingMs: number
  readonly deploymentMs: number
  readonly requests: number
  readonly failures: string[]
}
const updates: UpdateFigure[] = []
for (const [i, app] of apps.entries()) {
  await setWindow(app.envId, new Date(Date.now() - 60_000), 30)
  let polling = true
  let requests = 0
  const failures: string[] = []
  let newAt = 0
  const poller = (async () => {
    while (polling) {
      const r = await get(app.host)
      requests++
      if (r.status === 200 && r.body === `v${NEW}`) newAt ||= performance.now()
      else if (!(r.status === 200 && r.body === `v${OLD}`))
        failures.push(`${r.status} ${r.body.slice(0, 80)}`)
    }
  })()
  await sleep(200) // the poller is going before the pass starts
  const started = performance.now()
  await platform.runtimeUpdates.tick()
  const deadline = started + 120_000
  while (!newAt) {
    if (performance.now() > deadline) throw new Error(`update ${i + 1}: node ${NEW} never served`)
    await sleep(5)
  }
  const toServingMs = newAt - started
  // Next passes settle the attempt (audited once the deployment finished); the edge stays polled.
  let outcome: string | undefined
  while (!outcome) {
    if (performance.now() > deadline) throw new Error(`update ${i + 1}: never settled`)
    await sleep(250)
    await platform.runtimeUpdates.tick()
    const row = await platform.store.db
      .selectFrom('audit_events')
      .select('action')
      .where('environment_id', '=', app.envId)
      .where('action', 'in', ['environment.runtime.update.succeed', 'environment.runtime.update.fail'])
      .executeTakeFirst()
    outcome = row?.action
  }
  if (outcome !== 'environment.runtime.update.succeed') throw new Error(`update ${i + 1}: ${outcome}`)
  const deps = await call('GET', `/v1/environments/${app.envId}/deployments`)
  const d = (deps.items as Array<Record<string, string>>).find((x) => x['kind'] === 'runtime-update')
  if (d?.['runtimeVersion'] !== NEW || !d['startedAt'] || !d['finishedAt'])
    throw new Error(`update ${i + 1}: no finished runtime-update deployment on ${NEW}`)
  // The old release drains (drainMs) after the switch, then stops: keep polling through both.
  const stopped = Date.parse(d['finishedAt']) + DEFAULT_DEPLOY_OPTIONS.drainMs + 1_000
  await sleep(Math.max(0, stopped - Date.now()))
  polling = false
  await poller
  const deploymentMs = Date.parse(d['finishedAt']) - Date.parse(d['startedAt'])
  updates.push({ toServingMs, deploymentMs, requests, failures })
  console.log(
    `update ${i + 1}${i === 0 ? ` (installs ${NEW})` : ''}: ${OLD} → ${NEW} serving ${toServingMs.toFixed(0)} ms after the scheduler pass started; deployment ${deploymentMs} ms (start → switch); ${requests} requests through the edge, ${failures.length} failed${failures.length ? `: ${failures.slice(0, 3).join(' | ')}` : ''}`,
  )
}
const [withInstall, ...installed] = updates as [UpdateFigure, ...UpdateFigure[]]

// ------------------------------------------------------------------ report

const load = loadavg()[0]!.toFixed(1)
const totalRequests = updates.reduce((n, u) => n + u.requests, 0)
const totalFailures = updates.reduce((n, u) => n + u.failures.length, 0)
const lines = [
  '',
  `Command: ${isolate ? 'BENCH_ISOLATE=1 ' : ''}node --import tsx bench/runtimes/run.ts --runs ${RUNS}`,
  `Machine: ${cpus().length} cores, load average ${load} at the end; host node ${process.version}; isolation: ${isolate ? 'namespaces' : 'none'}`,
  '',
  '| Measure | Figure |',
  '| --- | --- |',
  ...installs.map(
    (f) =>
      `| Install node ${f.version} from the npm registry, uncached (fresh data dir) | ${(f.uncachedMs / 1000).toFixed(2)} s, ${(f.bytes / MB).toFixed(1)} MB downloaded |`,
  ),
  ...installs.map(
    (f) =>
      `| Install node ${f.version} again, cached (same data dir) | ${f.cachedMs.toFixed(2)} ms (median of ${CACHED_CALLS}) |`,
  ),
  `| Apply an update ${OLD} → ${NEW} to a running environment, ${NEW} installed: scheduler pass start → new release serving through the edge | median ${median(installed.map((u) => u.toServingMs)).toFixed(0)} ms over ${RUNS} (${installed.map((u) => u.toServingMs.toFixed(0)).join(', ')} ms) |`,
  `| The same, the update's deployment alone (start → edge switched) | median ${median(installed.map((u) => u.deploymentMs)).toFixed(0)} ms |`,
  `| Apply the same update when ${NEW} is not installed yet (the deployment downloads it) | ${withInstall.toServingMs.toFixed(0)} ms (one run) |`,
  `| Requests through the edge during the ${updates.length} updates, until the old release stopped | ${totalRequests}, ${totalFailures} failed |`,
]
console.log(lines.join('\n'))

await platform.close()
await edge.stop()
if (isolate) for (const app of apps) await removeSandbox(sandboxName(app.envId))
removeTree(root)
if (totalFailures > 0) process.exitCode = 1
