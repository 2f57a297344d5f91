import assert from 'node:assert/strict'
import { test } from 'node:test'
import { accessLineEnvironment, decodeAccessLine, encodeAccessLine } from './access-line.js'
import { EdgeMetrics, mergeEdgeSnapshots } from './edge-metrics.js'
import type { AccessLogEntry } from './types.js'

const entry = (over: Partial<AccessLogEntry> = {}): AccessLogEntry => ({
  requestId: 'r1',
  environmentId: 'env_a',
  workspaceId: 'ws_a',
  clientIp: '192.0.2.1',
  method: 'GET',
  host: 'a.localhost',
  path: '/a',
  protocol: 'http',
  status: 200,
  bytesOut: 12,
  durationMs: 0.5004,
  outcome: null,
  userAgent: 'curl/8',
  referer: null,
  authorization: null,
  cookie: null,
  ...over,
})

test('an access line round-trips with the fields the logs API shows', () => {
  const at = Date.UTC(2026, 11, 7, 12, 0, 0)
  const line = encodeAccessLine('env_a', entry({ outcome: 'waf_block', path: '/b?x="q"&y=\u00e9' }), at)
  assert.equal(accessLineEnvironment(line), 'env_a')
  assert.deepEqual(decodeAccessLine(line), {
    at: '2026-12-07T12:00:00.000Z',
    requestId: 'r1',
    clientIp: '192.0.2.1',
    method: 'GET',
    host: 'a.localhost',
    path: '/b?x="q"&y=\u00e9',
    status: 200,
    durationMs: 0.5,
    bytesOut: 12,
    outcome: 'waf_block',
    userAgent: 'curl/8',
  })
})

test('tabs and line breaks inside a field cannot split a line; null stays null', () => {
  const line = encodeAccessLine('env_a', entry({ path: '/a\tb\nc', userAgent: null }), 0)
  assert.equal(line.split('\n').length, 1)
  const decoded = decodeAccessLine(line)
  assert.equal(decoded?.path, '/a b c')
  assert.equal(decoded?.userAgent, null)
  assert.equal(decodeAccessLine(encodeAccessLine('env_a', entry({ userAgent: '-' }), 0))?.userAgent, '- ')
})

test('a line that is not an encoded access line is refused, not half read', () => {
  assert.equal(decodeAccessLine(''), null)
  assert.equal(decodeAccessLine('env_a\tnot-a-time\tr1'), null)
  assert.equal(decodeAccessLine('{"requestId":"r1"}'), null)
})

test("a worker's drained counters added in the control plane equal counting there", () => {
  const inWorker = new EdgeMetrics()
  const direct = new EdgeMetrics()
  const total = new EdgeMetrics()
  const requests = [
    entry(),
    entry({ status: 503, outcome: 'upstream_error' }),
    entry({ status: 403, outcome: 'waf_block', ruleIds: ['942100', '949110'] }),
    entry({ environmentId: null, status: 404 }),
    entry({ method: 'BREW', status: 429, outcome: 'throttled' }),
  ]
  for (const [i, e] of requests.entries()) {
    inWorker.record(e)
    direct.record(e)
    // Two batches: the second starts from zero.
    if (i === 2) total.add(inWorker.drain() ?? assert.fail('a batch'))
  }
  total.add(inWorker.drain() ?? assert.fail('a batch'))
  assert.equal(inWorker.drain(), null)
  assert.deepEqual(total.snapshot(), direct.snapshot())
  assert.deepEqual(mergeEdgeSnapshots([total.snapshot()]), direct.snapshot())
})
