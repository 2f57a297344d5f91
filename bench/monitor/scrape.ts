/**
 * `/metrics` render time with N environments (default 100), each with traffic in every method and status
 * class, 300 WAF rule ids, 100 running apps: median and p95 of 50 renders, and the exposition's size.
 * Usage: node --import tsx bench/monitor/scrape.ts [environments]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createAuditLog, createCheckpointSigner, generateSigningKeyPem } from '../../src/audit/index.js'
import { LogStore } from '../../src/deploy/index.js'
import { createMonitor } from '../../src/monitor/index.js'
import { createSecretBox } from '../../src/shared/secret-box.js'
import { migrateToLatest, openStore } from '../../src/store/index.js'

const n = Number(process.argv[2] ?? 100)
const dir = mkdtempSync(path.join(tmpdir(), 'palisade-bench-scrape-'))
const store = openStore(`sqlite:${path.join(dir, 'p.db')}`)
await migrateToLatest(store.db)
const envs = Array.from({ length: n }, (_, i) => `env_${String(i).padStart(20, '0')}`)
const monitor = createMonitor({
  db: store.db,
  audit: createAuditLog({
    db: store.db,
    dialect: store.dialect,
    clock: { now: () => new Date() },
    signer: createCheckpointSigner(generateSigningKeyPem()),
  }),
  dataDir: dir,
  processes: () =>
    envs.map((environmentId) => ({ environmentId, state: 'running', restarts: 0, logKey: 'dep_x' })),
  servingLogKey: () => null,
  logs: () => new LogStore(path.join(dir, 'logs'), { capBytes: 1024 }),
  mailer: { send: () => Promise.resolve() },
  secrets: createSecretBox(Buffer.alloc(32, 7)),
  publicUrl: 'http://127.0.0.1:8080',
})
const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'BREW']
for (const environmentId of envs)
  for (const method of methods)
    for (const status of [101, 200, 302, 404, 500])
      monitor.onAccessLog({
        requestId: 'r',
        environmentId,
        workspaceId: 'ws',
        clientIp: '203.0.113.9',
        method,
        host: 'h',
        path: '/',
        protocol: 'http',
        status,
        bytesOut: 10,
        durationMs: status / 10,
        outcome: status === 500 ? 'upstream_error' : null,
        userAgent: null,
        referer: null,
        authorization: null,
        cookie: null,
      })
for (let r = 0; r < 300; r++)
  monitor.onAccessLog({
    requestId: 'r',
    environmentId: envs[r % n] ?? null,
    workspaceId: 'ws',
    clientIp: '203.0.113.9',
    method: 'GET',
    host: 'h',
    path: '/',
    protocol: 'http',
    status: 403,
    bytesOut: 10,
    durationMs: 1,
    outcome: 'waf_block',
    userAgent: null,
    referer: null,
    authorization: null,
    cookie: null,
    ruleIds: [String(900000 + r), '949110'],
  })
const times: number[] = []
let size = 0
let series = 0
for (let i = 0; i < 55; i++) {
  const t0 = process.hrtime.bigint()
  const text = await monitor.metrics.render()
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (i >= 5) times.push(ms)
  size = text.length
  series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length
}
times.sort((a, b) => a - b)
const q = (p: number): string =>
  (times[Math.min(times.length - 1, Math.floor(p * times.length))] as number).toFixed(1)
console.log(
  `/metrics with ${n} environments: ${series} series, ${(size / 1024).toFixed(0)} KiB; render median ${q(0.5)} ms, p95 ${q(0.95)} ms (50 renders)`,
)
await store.close()
rmSync(dir, { recursive: true, force: true })
