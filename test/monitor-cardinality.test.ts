import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { Agent } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { startEdge, startUpstream, testRoute } from '../src/edge/testing.js'
import type { Verdict } from '../src/edge/index.js'
import { createMonitor } from '../src/monitor/index.js'
import { migrateToLatest, openStore } from '../src/store/index.js'
import { createAuditLog, createCheckpointSigner, generateSigningKeyPem } from '../src/audit/index.js'
import { LogStore } from '../src/deploy/index.js'
import { createSecretBox } from '../src/shared/secret-box.js'

/** The series of an exposition: every sample line's name and labels (not its value). */
function seriesOf(text: string): Set<string> {
  const out = new Set<string>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    out.add(line.slice(0, line.lastIndexOf(' ')))
  }
  return out
}

/**
 * Cardinality attack on the metrics store: a client that sends random paths, hosts, methods and (through a
 * trusted proxy) random client addresses must not add a series; only the fixed label sets exist.
 */
test('10 000 requests with random paths, hosts, methods and client addresses add no series', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-card-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = openStore(`sqlite:${path.join(dir, 'p.db')}`)
  t.after(() => store.close())
  await migrateToLatest(store.db)
  const audit = createAuditLog({
    db: store.db,
    dialect: store.dialect,
    clock: { now: () => new Date() },
    signer: createCheckpointSigner(generateSigningKeyPem()),
  })
  const monitor = createMonitor({
    db: store.db,
    audit,
    dataDir: dir,
    processes: () => [],
    servingLogKey: () => null,
    logs: () => new LogStore(path.join(dir, 'logs'), { capBytes: 1024 }),
    mailer: { send: () => Promise.resolve() },
    secrets: createSecretBox(Buffer.alloc(32, 1)),
    publicUrl: 'http://127.0.0.1',
    processMetrics: false,
  })
  const upstream = await startUpstream('app')
  t.after(() => upstream.close())
  // A WAF stand-in that blocks paths containing "attack" with a rule id from the request (hostile input).
  const inspector = (req: { uri: string }): Verdict =>
    req.uri.includes('attack')
      ? { action: 'block', status: 403, ruleIds: [req.uri.slice(-12), '949110'] }
      : { action: 'allow' }
  const started = await startEdge(
    { onAccessLog: monitor.onAccessLog, inspector: inspector as never },
    { trustProxy: true },
  )
  t.after(() => started.stop())
  started.edge.routes.upsert(
    testRoute({
      environmentId: 'env_card',
      hosts: ['card.localhost'],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: upstream.port } },
    }),
  )
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  t.after(() => agent.destroy())
  const send = (method: string, host: string, p: string, ip: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          port: started.httpPort,
          host: '127.0.0.1',
          method,
          path: p,
          headers: { host, 'x-forwarded-for': ip },
        },
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        },
      )
      req.on('error', reject)
      req.end()
    })
  const randIp = (): string => [...randomBytes(4)].join('.')
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']

  // Warm-up: every fixed label set in use once (each method, each status class the edge gives, a block).
  for (const m of methods) await send(m, 'card.localhost', '/warm', randIp())
  await send('GET', 'card.localhost', '/attack/000000000000', randIp())
  await send('GET', 'unknown.localhost', '/', randIp())
  await send('BREW', 'card.localhost', '/', randIp())
  const before = seriesOf(await monitor.metrics.render())
  assert.ok([...before].some((s) => s.startsWith('palisade_edge_requests_total{environment="env_card"')))

  const statuses = new Set<number>()
  for (let batch = 0; batch < 100; batch++) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const r = randomBytes(6).toString('hex')
        const kind = (batch * 100 + i) % 4
        const p =
          kind === 3
            ? `/attack/${randomBytes(6).toString('hex')}`
            : `/${r}/${randomBytes(3).toString('hex')}?q=${r}`
        const host = kind === 2 ? `${r}.localhost` : 'card.localhost'
        return send(methods[i % methods.length] as string, host, p, randIp()).then((s) => statuses.add(s))
      }),
    )
  }
  assert.ok(
    statuses.has(200) && statuses.has(403) && statuses.has(404),
    `statuses seen: ${[...statuses].join(',')}`,
  )
  const after = seriesOf(await monitor.metrics.render())
  const added = [...after].filter((s) => !before.has(s))
  assert.deepEqual(added, [], 'no series beyond the fixed sets')
  // Rule ids from the request are never labels: only digits are, and each was seen in the warm-up.
  const rules = [...after].flatMap((s) => /rule="([^"]*)"/.exec(s)?.[1] ?? [])
  assert.deepEqual(rules.sort(), ['949110', 'other'])
  const total = [...after].filter((s) => s.startsWith('palisade_edge_requests_total')).length
  assert.ok(total <= 2 * 8 * 5, `edge request series stay within environments × methods × classes (${total})`)
})
