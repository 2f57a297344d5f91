import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { send, startEdge, startUpstream, testOptions, testRoute } from '../src/edge/testing.js'
import type { AccessLogEntry, InspectedRequest, Verdict, WafEvent } from '../src/edge/index.js'

function proxyTo(port: number, environmentId = 'env_p', hosts = ['p.localhost']) {
  return testRoute({ environmentId, hosts, target: { kind: 'proxy', upstream: { host: '127.0.0.1', port } } })
}

test('the WAF hook sees every request with its buffered body, and a block answers 403 with the request id', async (t) => {
  const a = await startUpstream('a')
  const seen: InspectedRequest[] = []
  const events: WafEvent[] = []
  const e = await startEdge({
    inspector: (req): Verdict => {
      seen.push(req)
      return req.body?.toString().includes('attack')
        ? { action: 'block', status: 403, ruleIds: ['942100'] }
        : { action: 'allow' }
    },
    onWafEvent: (event) => events.push(event),
  })
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(a.port))

  const ok = await send(e.httpPort, { host: 'p.localhost', method: 'POST', path: '/f?q=1', body: 'name=bob' })
  assert.equal(ok.status, 200)
  assert.equal(seen[0]?.body?.toString(), 'name=bob')
  assert.equal(seen[0]?.uri, '/f?q=1')
  assert.ok(seen[0]?.headers.some(([n, v]) => n.toLowerCase() === 'host' && v === 'p.localhost'))
  const get = await send(e.httpPort, { host: 'p.localhost' })
  assert.equal(get.status, 200)
  assert.equal(seen[1]?.body, null)

  const blocked = await send(e.httpPort, { host: 'p.localhost', method: 'POST', body: 'x=attack' })
  assert.equal(blocked.status, 403)
  const requestId = String(blocked.headers['x-request-id'])
  assert.ok(blocked.body.includes(requestId))
  assert.equal(seen[2]?.requestId, requestId)
  assert.equal(a.seen.length, 2)
  assert.equal(events.length, 1)
  assert.deepEqual(events[0]?.ruleIds, ['942100'])
  assert.equal(events[0]?.requestId, requestId)
})

test('a WAF hook that fails closes the door with 503 instead of passing the request', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge({
    inspector: () => {
      throw new Error('engine broke')
    },
  })
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(a.port))
  const res = await send(e.httpPort, { host: 'p.localhost' })
  assert.equal(res.status, 503)
  assert.equal(a.seen.length, 0)
})

test('bodies over the limit get 413, declared or chunked, and never reach the app', async (t) => {
  const a = await startUpstream('a')
  let inspected = 0
  const e = await startEdge({
    inspector: () => {
      inspected++
      return { action: 'allow' }
    },
  })
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(a.port))
  const big = Buffer.alloc(64 * 1024 + 1, 'a')
  const declared = await send(e.httpPort, { host: 'p.localhost', method: 'POST', body: big })
  assert.equal(declared.status, 413)
  const chunked = await send(e.httpPort, {
    host: 'p.localhost',
    method: 'POST',
    headers: { 'transfer-encoding': 'chunked' },
    body: big,
  })
  assert.equal(chunked.status, 413)
  const fits = await send(e.httpPort, {
    host: 'p.localhost',
    method: 'POST',
    body: Buffer.alloc(64 * 1024, 'b'),
  })
  assert.equal(fits.status, 200)
  assert.equal(a.seen.length, 1)
  assert.equal(a.seen[0]?.body.length, 64 * 1024)
  assert.equal(inspected, 1)
})

test('hop-by-hop headers are stripped both ways and end-to-end ones pass', async (t) => {
  const a = await startUpstream('a', (_req, res) => {
    res.writeHead(200, {
      'x-app': 'yes',
      connection: 'keep-alive, x-app-hop',
      'x-app-hop': 'hop',
      'keep-alive': 'timeout=77',
      'set-cookie': ['a=1', 'b=2'],
    })
    res.end('ok')
    return true
  })
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(a.port))
  const res = await send(e.httpPort, {
    host: 'p.localhost',
    headers: {
      connection: 'keep-alive, x-drop-me',
      'x-drop-me': '1',
      'keep-alive': 'timeout=1',
      te: 'trailers',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      upgrade: 'h2c',
      'x-keep-me': '2',
    },
  })
  assert.equal(res.status, 200)
  const up = a.seen[0]?.headers ?? {}
  for (const name of ['x-drop-me', 'keep-alive', 'te', 'proxy-authorization', 'upgrade']) {
    assert.equal(up[name], undefined, name)
  }
  assert.equal(up['x-keep-me'], '2')
  assert.equal(res.headers['x-app'], 'yes')
  assert.equal(res.headers['x-app-hop'], undefined)
  assert.doesNotMatch(String(res.headers['keep-alive']), /77/) // the edge's own keep-alive may be announced
  assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2'])
})

test('X-Forwarded-For/Proto/Host and X-Request-Id are set by the edge, client values replaced', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(a.port))
  const res = await send(e.httpPort, {
    host: 'p.localhost:8000',
    localAddress: '127.0.0.2',
    headers: {
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      'x-request-id': 'chosen-by-client',
      'x-real-ip': '6.6.6.6',
    },
  })
  const up = a.seen[0]?.headers ?? {}
  assert.equal(up['x-forwarded-for'], '127.0.0.2')
  assert.equal(up['x-forwarded-proto'], 'http')
  assert.equal(up['x-forwarded-host'], 'p.localhost:8000')
  assert.equal(up['x-real-ip'], undefined)
  assert.equal(up.host, 'p.localhost:8000')
  assert.notEqual(up['x-request-id'], 'chosen-by-client')
  assert.equal(up['x-request-id'], res.headers['x-request-id'])
})

test('a trusted proxy keeps its X-Forwarded-For chain and request id', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge({}, { trustProxy: true })
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(a.port))
  await send(e.httpPort, {
    host: 'p.localhost',
    headers: { 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'lb-123', 'x-forwarded-proto': 'https' },
  })
  const up = a.seen[0]?.headers ?? {}
  assert.equal(up['x-forwarded-for'], '203.0.113.9, 127.0.0.1')
  assert.equal(up['x-request-id'], 'lb-123')
  assert.equal(up['x-forwarded-proto'], 'https')
})

test('an upstream that is down gives 502 and one that hangs gives 504; the edge keeps serving', async (t) => {
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const deadPort = (closed.address() as { port: number }).port
  await new Promise<void>((resolve) => closed.close(() => resolve()))
  const hang = await startUpstream('hang', () => true) // never answers
  const a = await startUpstream('a')
  const e = await startEdge({}, { limits: { ...testOptions('').limits, upstreamTimeoutMs: 300 } })
  t.after(() => Promise.all([hang.close(), a.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(deadPort, 'env_dead', ['dead.localhost']))
  e.edge.routes.upsert(proxyTo(hang.port, 'env_hang', ['hang.localhost']))
  e.edge.routes.upsert(proxyTo(a.port, 'env_a', ['a.localhost']))
  const down = await send(e.httpPort, { host: 'dead.localhost', headers: { accept: 'application/json' } })
  assert.equal(down.status, 502)
  assert.deepEqual(Object.keys(JSON.parse(down.body).error).sort(), ['code', 'message', 'requestId'])
  const slow = await send(e.httpPort, { host: 'hang.localhost' })
  assert.equal(slow.status, 504)
  assert.equal((await send(e.httpPort, { host: 'a.localhost' })).status, 200)
})

test('the access log has one line per request with secrets masked', async (t) => {
  const a = await startUpstream('a')
  const lines: string[] = []
  const entries: AccessLogEntry[] = []
  const logger = {
    info: (obj: object) => lines.push(JSON.stringify(obj)),
    warn: (obj: object) => lines.push(JSON.stringify(obj)),
    error: (obj: object) => lines.push(JSON.stringify(obj)),
  }
  const e = await startEdge({ logger, onAccessLog: (entry) => entries.push(entry) })
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(a.port))
  const secrets = ['hunter2-pw', 'tok-9f8e7d', 'sess-abcdef', 'key-123456', 'shh-secret', 'dXNlcjpodW50ZXIy']
  await send(e.httpPort, {
    host: 'p.localhost',
    path: `/login?user=bob&password=${secrets[0]}&access_token=${secrets[1]}&api_key=${secrets[3]}&Secret=${secrets[4]}`,
    headers: {
      authorization: `Basic ${secrets[5]}`,
      cookie: `session=${secrets[2]}; theme=dark`,
      referer: `https://p.localhost/back?token=${secrets[1]}`,
    },
  })
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(entries.length, 1)
  const entry = entries[0] as AccessLogEntry
  assert.equal(entry.status, 200)
  assert.equal(entry.environmentId, 'env_p')
  assert.match(entry.path, /user=bob/)
  assert.equal(entry.authorization, 'Basic ***')
  assert.equal(entry.cookie, 'session=***; theme=***')
  const all = lines.join('\n')
  assert.ok(lines.length >= 1)
  for (const secret of secrets) assert.ok(!all.includes(secret), `log leaks ${secret}`)
})

test('a request head over the header limit is refused with 431 before routing', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(a.port))
  const res = await send(e.httpPort, { host: 'p.localhost', headers: { 'x-big': 'a'.repeat(20 * 1024) } })
  assert.equal(res.status, 431)
  assert.equal(a.seen.length, 0)
  assert.equal((await send(e.httpPort, { host: 'p.localhost' })).status, 200)
})
