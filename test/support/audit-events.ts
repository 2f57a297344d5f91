import assert from 'node:assert/strict'
import type { Platform } from '../../src/main.js'

/** Number of audit events in the store (all chains). */
export async function countEvents(platform: Platform): Promise<number> {
  const r = await platform.store.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

/** The audit action a route declares in the OpenAPI document (`x-palisade-audit`). */
export async function declaredActions(platform: Platform): Promise<(key: string) => string | undefined> {
  const doc = (await platform.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json() as {
    paths: Record<string, Record<string, { 'x-palisade-audit'?: string }>>
  }
  return (key) => {
    const [method, p] = key.split(' ') as [string, string]
    return doc.paths[p]?.[method]?.['x-palisade-audit']
  }
}

/**
 * Asserts that the request with this id wrote exactly one audit event, with the route's declared action,
 * a successful outcome and the expected target, and that nothing else was written since `before`.
 */
export async function assertOneEvent(
  platform: Platform,
  key: string,
  res: { statusCode: number; body: string; headers: Record<string, unknown> },
  before: number,
  expect: { action: string | undefined; targetId?: string },
): Promise<void> {
  assert.ok(expect.action, `${key} declares its audit action`)
  assert.ok(res.statusCode < 300, `${key} → ${res.statusCode} ${res.body}`)
  assert.equal(await countEvents(platform), before + 1, `${key} writes exactly one event`)
  const ev = await platform.store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('request_id', '=', String(res.headers['x-request-id']))
    .executeTakeFirstOrThrow()
  assert.equal(ev.action, expect.action, key)
  assert.equal(ev.outcome, 'success', key)
  if (expect.targetId !== undefined) assert.equal(ev.target_id, expect.targetId, key)
}
