import assert from 'node:assert/strict'
import { test } from 'node:test'
import { canonicalEventBody, computeEventHash, GENESIS_HASH, type AuditEvent } from './audit-event.js'
import { canonicalJson } from './canonical-json.js'

const base: Omit<AuditEvent, 'hash'> = {
  id: 'evt_1',
  seq: 1,
  at: '2026-01-01T00:00:00.000Z',
  actor: { type: 'user', id: 'usr_1', email: 'a@example.com' },
  action: 'project.create',
  target: { type: 'project', id: 'prj_1' },
  workspace: 'wsp_1',
  project: 'prj_1',
  environment: null,
  ip: '::1',
  userAgent: 'curl/8 "quoted" \u2028',
  requestId: 'req_1',
  outcome: 'success',
  changes: { name: { after: 'shop' }, z: { before: [1, { b: 2, a: 1 }] } },
  prevHash: GENESIS_HASH,
}

test('the fast canonical form equals the generic canonical JSON of the event body', () => {
  for (const e of [
    base,
    {
      ...base,
      actor: { type: 'platform' as const, id: 'platform' },
      ip: null,
      userAgent: null,
      requestId: null,
      workspace: null,
    },
  ]) {
    const { prevHash: _p, ...body } = e
    assert.equal(canonicalEventBody(e), canonicalJson(body))
  }
})

test('changing any field changes the hash', () => {
  const h = computeEventHash(base)
  assert.notEqual(computeEventHash({ ...base, seq: 2 }), h)
  assert.notEqual(computeEventHash({ ...base, prevHash: 'f'.repeat(64) }), h)
  assert.notEqual(computeEventHash({ ...base, changes: {} }), h)
  assert.equal(computeEventHash({ ...base }), h)
})
