import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { test } from 'node:test'
import { startEdge, startUpstream, testRoute } from '../src/edge/testing.js'
import type { AccessLogEntry } from '../src/edge/index.js'
import { assertDocumentedError, raw, type RawAnswer } from './support/raw-http.js'

async function proxiedEdge(
  t: { after(fn: () => Promise<unknown>): void },
  limits: Record<string, number> = {},
) {
  const app = await startUpstream('app')
  const log: AccessLogEntry[] = []
  const base = (await import('../src/edge/testing.js')).testOptions('').limits
  const e = await startEdge({ onAccessLog: (entry) => log.push(entry) }, { limits: { ...base, ...limits } })
  t.after(() => Promise.all([app.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_p',
      hosts: ['p.localhost'],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: app.port } },
    }),
  )
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_q',
      workspaceId: 'ws_other',
      hosts: ['q.localhost'],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: app.port } },
    }),
  )
  return { app, e, log }
}

test('two Host headers are refused with 400 and nothing reaches the app (host confusion)', async (t) => {
  const { app, e } = await proxiedEdge(t)
  const answer = await raw(e.httpPort, 'GET / HTTP/1.1\r\nHost: p.localhost\r\nHost: q.localhost\r\n\r\n')
  assertDocumentedError(answer, 400, 'PAL_EDGE_BAD_REQUEST')
  const same = await raw(e.httpPort, 'GET / HTTP/1.1\r\nHost: p.localhost\r\nhost: p.localhost\r\n\r\n')
  assert.equal(same.status, 400)
  const none = await raw(e.httpPort, 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n')
  assertDocumentedError(none, 400, 'PAL_EDGE_BAD_REQUEST')
  assert.equal(app.seen.length, 0)
})

test('an absolute-form target naming another host is refused; one naming the Host is passed in origin form', async (t) => {
  const { app, e } = await proxiedEdge(t)
  const smuggled = await raw(
    e.httpPort,
    'GET http://q.localhost/admin HTTP/1.1\r\nHost: p.localhost\r\nConnection: close\r\n\r\n',
  )
  assertDocumentedError(smuggled, 400, 'PAL_EDGE_BAD_REQUEST')
  const userinfo = await raw(
    e.httpPort,
    'GET http://p.localhost@q.localhost/ HTTP/1.1\r\nHost: p.localhost\r\nConnection: close\r\n\r\n',
  )
  assert.equal(userinfo.status, 400)
  assert.equal(app.seen.length, 0)
  const same = await raw(
    e.httpPort,
    'GET http://p.localhost/x?y=1 HTTP/1.1\r\nHost: p.localhost\r\nConnection: close\r\n\r\n',
  )
  assert.equal(same.status, 200)
  assert.equal(app.seen[0]?.url, '/x?y=1')
  assert.equal(app.seen[0]?.headers.host, 'p.localhost')
})

test('parser failures answer in the documented error format with a request id, and are logged', async (t) => {
  const { app, e, log } = await proxiedEdge(t)
  const control = await raw(e.httpPort, 'GET / HTTP/1.1\r\nHost: p.localhost\r\nX-A: a\x01b\r\n\r\n')
  assertDocumentedError(control, 400, 'PAL_EDGE_BAD_REQUEST')
  const longUrl = await raw(e.httpPort, `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: p.localhost\r\n\r\n`)
  assertDocumentedError(longUrl, 414, 'PAL_EDGE_URI_TOO_LONG')
  const longButFits = await raw(e.httpPort, `GET /${'a'.repeat(9_000)} HTTP/1.1\r\nHost: p.localhost\r\n\r\n`)
  assertDocumentedError(longButFits, 414, 'PAL_EDGE_URI_TOO_LONG')
  const bigHeaders = await raw(
    e.httpPort,
    `GET / HTTP/1.1\r\nHost: p.localhost\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`,
  )
  assertDocumentedError(bigHeaders, 431, 'PAL_EDGE_HEADERS_TOO_LARGE')
  const garbage = await raw(e.httpPort, 'GET / HTTP/9.9\r\n\r\n')
  assertDocumentedError(garbage, 400, 'PAL_EDGE_BAD_REQUEST')
  assert.equal(app.seen.length, 0)
  const outcomes = log.map((l) => l.outcome)
  for (const o of ['bad_request', 'uri_too_long', 'headers_too_large'])
    assert.ok(outcomes.includes(o), `${o} in ${outcomes.join()}`)
})

test('a slowloris client is cut when the header timeout passes, to the second, with 408', async (t) => {
  const { e } = await proxiedEdge(t, { headerTimeoutMs: 2_000, requestTimeoutMs: 10_000 })
  // Sends a header line every 500 ms and never finishes the head.
  const started = Date.now()
  const socket: Socket = connect(e.httpPort, '127.0.0.1')
  let data = ''
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => (data += d))
  socket.on('error', () => {})
  socket.write('GET / HTTP/1.1\r\nHost: p.localhost\r\n')
  const drip = setInterval(() => socket.write(`X-Drip-${Date.now()}: 1\r\n`), 500)
  const closedAfter = await new Promise<number>((resolve) =>
    socket.on('close', () => resolve(Date.now() - started)),
  )
  clearInterval(drip)
  assert.ok(closedAfter >= 2_000 && closedAfter < 3_000, `cut after ${closedAfter} ms`)
  assert.match(data, /^HTTP\/1\.1 408 /)
  assert.match(data, /"requestId":"[0-9a-f-]{36}"/)
})

test('a connection that never sends a byte is cut at the header timeout too', async (t) => {
  const { e } = await proxiedEdge(t, { headerTimeoutMs: 2_000, requestTimeoutMs: 10_000 })
  const answer = await raw(e.httpPort, [], 5_000)
  assert.ok(
    answer.closedAfterMs >= 2_000 && answer.closedAfterMs < 3_000,
    `cut after ${answer.closedAfterMs} ms`,
  )
})

test('an idle keep-alive connection is closed after the idle timeout', async (t) => {
  const { e } = await proxiedEdge(t, { idleTimeoutMs: 2_000 })
  const answer = await raw(e.httpPort, 'GET / HTTP/1.1\r\nHost: p.localhost\r\n\r\n', 6_000)
  assert.equal(answer.status, 200)
  assert.ok(
    answer.closedAfterMs >= 1_900 && answer.closedAfterMs < 2_600,
    `closed after ${answer.closedAfterMs} ms`,
  )
})

test('a client over the per-client connection cap is refused with 429; others and freed slots still work', async (t) => {
  const { e } = await proxiedEdge(t, { maxConnectionsPerClient: 3 })
  const held: Socket[] = []
  for (let i = 0; i < 3; i++) {
    const s = connect(e.httpPort, '127.0.0.1')
    s.on('error', () => {})
    await new Promise((resolve) => s.once('connect', resolve))
    held.push(s)
  }
  t.after(() => held.forEach((s) => s.destroy()))
  const refused = await raw(e.httpPort, 'GET / HTTP/1.1\r\nHost: p.localhost\r\n\r\n')
  assertDocumentedError(refused, 429, 'PAL_EDGE_TOO_MANY_CONNECTIONS')
  assert.match(refused.head, /\r\nRetry-After: 1/i)
  // another client address is not affected
  const other = await new Promise<RawAnswer>((resolve, reject) => {
    const started = Date.now()
    let data = ''
    const s = connect({ port: e.httpPort, host: '127.0.0.1', localAddress: '127.0.0.2' }, () =>
      s.write('GET / HTTP/1.1\r\nHost: p.localhost\r\nConnection: close\r\n\r\n'),
    )
    s.setEncoding('latin1')
    s.on('data', (d: string) => (data += d))
    s.on('error', reject)
    s.on('close', () =>
      resolve({
        status: Number(data.slice(9, 12)),
        head: data,
        body: '',
        closedAfterMs: Date.now() - started,
      }),
    )
  })
  assert.equal(other.status, 200)
  // a freed slot can be used again
  held.pop()?.destroy()
  await new Promise((r) => setTimeout(r, 100))
  const again = await raw(e.httpPort, 'GET / HTTP/1.1\r\nHost: p.localhost\r\nConnection: close\r\n\r\n')
  assert.equal(again.status, 200)
})

test('an internal failure of the edge answers 500 in the documented format with only a code and a request id', async (t) => {
  const e = await startEdge({
    throttle: {
      take: () => {
        throw new Error('throttle store is down: secret internals')
      },
    },
  })
  t.after(() => e.stop())
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_t',
      hosts: ['t.localhost'],
      throttle: { requestsPerSecond: 5, burst: 5 },
    }),
  )
  const answer = await raw(e.httpPort, 'GET / HTTP/1.1\r\nHost: t.localhost\r\n\r\n')
  assertDocumentedError(answer, 500, 'PAL_EDGE_INTERNAL')
  assert.ok(!answer.body.includes('secret internals'))
})
