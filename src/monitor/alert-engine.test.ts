import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { shippedCatalog } from '../runtimes/index.js'
import { createSecretBox } from '../shared/secret-box.js'
import { migrateToLatest, openStore } from '../store/index.js'
import { createAlertEngine, DELIVERY_ATTEMPTS, RETRY_BASE_MS } from './alert-engine.js'
import { verifyWebhook } from './webhooks.js'

/**
 * Delivery retries: a receiver that fails is retried with doubling waits (not before), the same delivery id and
 * a fresh timestamp and signature each time, the history counts the attempts; after the last attempt it is
 * `failed`. A webhook aimed at a private address is refused unless allowed (SSRF).
 */
test('webhook deliveries retry with backoff, keep their id, and give up after the last attempt', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-alert-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = openStore(`sqlite:${path.join(dir, 'p.db')}`)
  t.after(() => store.close())
  await migrateToLatest(store.db)
  const db = store.db
  const secrets = createSecretBox(Buffer.alloc(32, 3))
  let answer = 503
  const got: Array<{ id: string; ts: string; ok: boolean }> = []
  const seen = new Map<string, number>()
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      // The receiver checks against the platform's (fake) clock; a retried id is new to it while it failed.
      const ts = Number(req.headers['palisade-webhook-timestamp'])
      const v = verifyWebhook('whsec_test', req.headers, body, ts, answer === 204 ? seen : new Map())
      got.push({ id: String(req.headers['palisade-webhook-id']), ts: String(ts), ok: v.ok })
      res.writeHead(answer).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => server.close(() => r())))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`

  let now = Date.parse('2026-12-07T10:00:00Z')
  const at = () => new Date(now).toISOString()
  await db
    .insertInto('workspaces')
    .values({
      id: 'ws_1',
      name: 'acme',
      display_name: 'Acme',
      require_mfa: 0,
      created_at: at(),
      updated_at: at(),
    })
    .execute()
  await db
    .insertInto('alert_channels')
    .values({
      id: 'chn_1',
      workspace_id: 'ws_1',
      name: 'hook',
      kind: 'webhook',
      target: url,
      format: 'palisade',
      secret: secrets.seal('whsec_test', 'alert_channel:chn_1'),
      created_at: at(),
    })
    .execute()
  await db
    .insertInto('alerts')
    .values({
      id: 'alr_1',
      workspace_id: 'ws_1',
      rule: 'disk',
      subject: 'data-dir',
      environment_id: null,
      status: 'firing',
      summary: 'disk full',
      value: 95,
      started_at: at(),
      last_notified_at: at(),
      resolved_at: null,
      notifications: 1,
    })
    .execute()
  await db
    .insertInto('alert_deliveries')
    .values({
      id: 'dlv_1',
      alert_id: 'alr_1',
      channel_id: 'chn_1',
      workspace_id: 'ws_1',
      event: 'firing',
      title: '[FIRING] disk full',
      payload: '{"rule":"disk"}',
      status: 'pending',
      attempts: 0,
      next_attempt_at: at(),
      response_status: null,
      error: null,
      created_at: at(),
      delivered_at: null,
    })
    .execute()
  const engine = (allowPrivate: boolean) =>
    createAlertEngine({
      db,
      dataDir: dir,
      mailer: { send: () => Promise.resolve() },
      secrets,
      publicUrl: 'http://127.0.0.1:8080',
      now: () => now,
      edge: () => ({ environments: {}, blocksByRule: {} }),
      logins: () => new Map(),
      processes: () => [],
      recentRestarts: () => 0,
      auditChain: { ok: null, verifiedAt: null, failing: [] },
      runtimeCatalog: shippedCatalog,
      allowPrivateWebhooks: allowPrivate,
    })
  const row = () =>
    db.selectFrom('alert_deliveries').selectAll().where('id', '=', 'dlv_1').executeTakeFirstOrThrow()

  // Private address refused by default: counted as a failed attempt, nothing reaches the receiver.
  assert.equal(await engine(false).deliver(), 0)
  assert.equal(got.length, 0)
  assert.match((await row()).error ?? '', /not public/)
  const e = engine(true)
  for (let attempt = 2; attempt <= DELIVERY_ATTEMPTS; attempt++) {
    const wait = RETRY_BASE_MS * 2 ** (attempt - 2)
    now += wait - 1000
    await e.deliver()
    assert.equal((await row()).attempts, attempt - 1, `attempt ${attempt} waits ${wait} ms`)
    now += 1000
    if (attempt === 4) answer = 204
    await e.deliver()
    const r = await row()
    assert.equal(r.attempts, attempt)
    if (answer === 204) {
      assert.equal(r.status, 'delivered')
      assert.equal(r.response_status, 204)
      break
    }
    assert.equal(r.status, 'pending')
    assert.equal(r.response_status, 503)
  }
  assert.deepEqual(
    new Set(got.map((g) => g.id)),
    new Set(['dlv_1']),
    'every retry carries the same delivery id',
  )
  assert.equal(
    new Set(got.map((g) => g.ts)).size,
    got.length,
    'each attempt is signed with its own timestamp',
  )
  assert.ok(
    got.every((g) => g.ok),
    'every attempt verifies',
  )

  // A delivery that never succeeds is failed after the last attempt.
  await db
    .updateTable('alert_deliveries')
    .set({ status: 'pending', attempts: DELIVERY_ATTEMPTS - 1, next_attempt_at: at() })
    .where('id', '=', 'dlv_1')
    .execute()
  answer = 500
  await e.deliver()
  const last = await row()
  assert.equal(last.status, 'failed')
  assert.equal(last.attempts, DELIVERY_ATTEMPTS)
  assert.equal(last.next_attempt_at, null)
})
