import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PalisadeError } from '../shared/errors.js'
import { accessLineMatches, parseEnvLogFilter } from './env-logs.js'

const NOW = Date.parse('2026-12-07T10:00:00Z')

test('log filters are parsed and bounded; a status or path filter selects access lines only', () => {
  assert.deepEqual(parseEnvLogFilter({}, NOW), {
    app: true,
    access: true,
    status: null,
    pathPrefix: null,
    since: null,
    lines: 100,
  })
  const f = parseEnvLogFilter({ status: '5xx', pathPrefix: '/api', since: '10m', lines: 5 }, NOW)
  assert.deepEqual(f, {
    app: false,
    access: true,
    status: { cls: 5 },
    pathPrefix: '/api',
    since: NOW - 600_000,
    lines: 5,
  })
  assert.deepEqual(parseEnvLogFilter({ status: '404', source: 'access' }, NOW).status, { exact: 404 })
  assert.equal(parseEnvLogFilter({ since: '2026-12-07T09:00:00Z' }, NOW).since, NOW - 3_600_000)
  const line = {
    at: '2026-12-07T09:55:00.000Z',
    requestId: 'r',
    clientIp: '203.0.113.1',
    method: 'GET',
    host: 'h',
    path: '/api/x',
    status: 502,
    durationMs: 1,
    bytesOut: 1,
    outcome: 'upstream_error',
    userAgent: null,
  }
  assert.ok(accessLineMatches(f, line))
  assert.ok(!accessLineMatches(f, { ...line, status: 404 }))
  assert.ok(!accessLineMatches(f, { ...line, path: '/other' }))
  assert.ok(!accessLineMatches(f, { ...line, at: '2026-12-07T09:40:00.000Z' }))
})

test('bad log filters are refused with the field named', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ source: 'db' }, 'source'],
    [{ status: '600' }, 'status'],
    [{ status: '5x' }, 'status'],
    [{ pathPrefix: 'api' }, 'pathPrefix'],
    [{ pathPrefix: '/a b' }, 'pathPrefix'],
    [{ since: 'yesterday' }, 'since'],
    [{ since: '31d' }, 'since'],
    [{ lines: 5001 }, 'lines'],
    [{ lines: -1 }, 'lines'],
  ]
  assert.ok(cases.length > 0)
  for (const [q, field] of cases) {
    assert.throws(
      () => parseEnvLogFilter(q, NOW),
      (e: unknown) => e instanceof PalisadeError && e.kind === 'invalid' && e.details?.[0]?.field === field,
      JSON.stringify(q),
    )
  }
})
