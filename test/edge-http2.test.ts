/**
 * HTTP/2 on the edge's HTTPS listener (issue #23, item 6): ALPN offers h2 and http/1.1, both reach the same
 * pipeline with the same routing, restrictions and WAF verdicts, and an HTTP/2 client cannot flood the edge
 * with streams it cancels at once (rapid reset, CVE-2023-44487). The flood is written frame by frame on a raw
 * TLS socket (test/support/raw-h2.ts): Node's own client paces its streams, and the edge's guard counts
 * streams rather than time, so the test does not depend on how fast either side runs.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { connect as tlsConnect } from 'node:tls'
import argon2 from 'argon2'
import { allowAllInspector } from '../src/edge/allow-all-inspector.js'
import { startEdge, startUpstream, testRoute, type StartedEdge } from '../src/edge/testing.js'
import { createWafInspector } from '../src/edge/waf-inspector.js'
import type { EdgeRoute, InspectedRequest, Inspector } from '../src/edge/types.js'
import { baselineRuleSet, createWaf, DEFAULT_WAF_SETTINGS } from '../src/waf/index.js'
import { CANCEL, connectRawH2, FRAME, getRequest, rstStream } from './support/raw-h2.js'

const HOST = 'h2.localhost'

interface Answer {
  status: number
  body: string
  headers: Record<string, unknown>
}

function h1(
  e: StartedEdge,
  ca: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: e.httpsPort,
        servername: HOST,
        ca,
        agent: false,
        path,
        method: init.method ?? 'GET',
        headers: { host: HOST, ...init.headers },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(init.body)
  })
}

function h2(
  session: ClientHttp2Session,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': init.method ?? 'GET',
      ':path': path,
      ':authority': HOST,
      ...init.headers,
    })
    let status = 0
    let headers: Record<string, unknown> = {}
    const chunks: Buffer[] = []
    req.on('response', (h) => {
      status = Number(h[':status'])
      headers = h
    })
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString(), headers }))
    req.on('error', reject)
    req.end(init.body)
  })
}

/**
 * `waf: false` lets every request through uninspected: the stream tests are about the protocol, and
 * inspecting each of their streams would only make them slower on a loaded machine.
 */
async function setUp(
  t: import('node:test').TestContext,
  options: { route?: Partial<EdgeRoute>; waf?: boolean } = {},
) {
  const upstream = await startUpstream('app')
  const seen: InspectedRequest[] = []
  const real =
    options.waf === false
      ? allowAllInspector
      : createWafInspector(() => createWaf(baselineRuleSet({ ...DEFAULT_WAF_SETTINGS })))
  const inspector: Inspector = (req, r) => {
    seen.push(req)
    return real(req, r)
  }
  const e = await startEdge({ inspector })
  t.after(() => Promise.all([upstream.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_h2',
      hosts: [HOST],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: upstream.port } },
      ...options.route,
    }),
  )
  const ca = await readFile(join(e.dataDir, 'edge', 'ca', 'ca.crt'), 'utf8')
  const session = h2connect(`https://127.0.0.1:${e.httpsPort}`, { ca, servername: HOST })
  t.after(() => session.close())
  return { e, ca, upstream, session, seen }
}

test('ALPN offers h2 and http/1.1 on the HTTPS listener', async (t) => {
  const { e, ca } = await setUp(t)
  const alpn = (protocols: string[]): Promise<string | false> =>
    new Promise((resolve, reject) => {
      const s = tlsConnect(
        { host: '127.0.0.1', port: e.httpsPort, servername: HOST, ca, ALPNProtocols: protocols },
        () => {
          resolve(s.alpnProtocol ?? false)
          s.end()
        },
      )
      s.on('error', reject)
    })
  assert.equal(await alpn(['h2', 'http/1.1']), 'h2')
  assert.equal(await alpn(['http/1.1']), 'http/1.1')
})

test('the same benign and attack requests get the same answers and the same inspection over HTTP/1.1 and HTTP/2', async (t) => {
  const { e, ca, session, seen, upstream } = await setUp(t)
  const cases: Array<{ path: string; method?: string; headers?: Record<string, string>; body?: string }> = [
    { path: '/' },
    { path: '/products?id=42&sort=price' },
    {
      path: '/search?q=red+shoes',
      headers: { cookie: 'session=abc; theme=dark', 'user-agent': 'Mozilla/5.0' },
    },
    {
      path: '/api/items',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"lamp","price":12}',
    },
    { path: "/products?id=1'%20OR%20'1'='1" },
    { path: '/page?x=%3Cscript%3Ealert(1)%3C/script%3E' },
    {
      path: '/login',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: "user=admin' OR 1=1 --&pw=x",
    },
    { path: '/files?name=../../../../etc/passwd' },
  ]
  for (const c of cases) {
    const before = seen.length
    const one = await h1(e, ca, c.path, c)
    const two = await h2(session, c.path, c)
    assert.equal(two.status, one.status, `${c.method ?? 'GET'} ${c.path}`)
    // The first four are benign, the rest attacks: answered by the app, or refused by the WAF, on both.
    assert.equal(one.status, cases.indexOf(c) < 4 ? 200 : 403, `${c.method ?? 'GET'} ${c.path}`)
    const [a, b] = seen.slice(before) as [InspectedRequest, InspectedRequest]
    assert.equal(b.method, a.method)
    assert.equal(b.uri, a.uri)
    assert.equal(b.host, a.host)
    assert.equal(b.tls, true)
    assert.deepEqual(b.body, a.body)
    // The header list the WAF sees: the client's own headers, Host included, no pseudo-headers.
    const names = (r: InspectedRequest): string[] =>
      r.headers
        .map(([n]) => n.toLowerCase())
        .filter((n) => !['connection', 'content-length', 'transfer-encoding'].includes(n))
        .sort()
    assert.deepEqual(names(b), names(a))
    assert.ok(names(b).includes('host'))
  }
  assert.ok(seen.some((r) => r.httpVersion === '2.0'))
  // Attacks were refused on both protocols, benign requests answered on both.
  const statuses = upstream.seen.length
  assert.ok(statuses >= 8, `the upstream saw ${statuses} requests`)
})

test('over HTTP/2, restrictions hold and an :authority that disagrees with Host is refused', async (t) => {
  const hash = await argon2.hash('open sesame', { type: argon2.argon2id, memoryCost: 4096, timeCost: 2 })
  const { session } = await setUp(t, {
    route: { access: { ipAllow: [], basicAuth: { username: 'team', passwordHash: hash } } },
  })
  assert.equal((await h2(session, '/')).status, 401)
  const auth = `Basic ${Buffer.from('team:open sesame').toString('base64')}`
  assert.equal((await h2(session, '/', { headers: { authorization: auth } })).status, 200)
  const confused = await h2(session, '/', { headers: { authorization: auth, host: 'other.localhost' } })
  assert.equal(confused.status, 400)
})

test('a client cancelling streams as fast as it opens them (rapid reset) gets GOAWAY ENHANCE_YOUR_CALM within 1 000 streams, and the edge keeps answering others', async (t) => {
  const { e, ca } = await setUp(t, { waf: false })
  const flood = await connectRawH2({ host: '127.0.0.1', port: e.httpsPort, servername: HOST, ca })
  t.after(() => flood.socket.destroy())
  // HEADERS and its RST_STREAM(CANCEL) back to back, for up to the 20 000 streams of a real flood; yielding
  // every 50 streams lets the server's GOAWAY be read, and the bound below is on what the server processed.
  let sent = 0
  for (; sent < 20_000 && flood.goaway() === undefined && !flood.closed(); sent++) {
    const id = 2 * sent + 1
    flood.socket.write(Buffer.concat([getRequest(id, HOST, `/?n=${sent}`), rstStream(id, CANCEL)]))
    if (sent % 50 === 49) await new Promise((r) => setImmediate(r))
  }
  const cut = await Promise.race([
    flood.whenClosed.then(() => true),
    // unref'd: a pending timer would hold the file's process open after its last test
    delay(10_000, false, { ref: false }),
  ])
  const goaway = flood.goaway()
  assert.ok(goaway, `after ${sent} cancelled streams the edge sent no GOAWAY`)
  // ENHANCE_YOUR_CALM is the edge's own guard, after 200 streams; Node's limits alone close the session with
  // another code after about 1 000.
  assert.equal(goaway.errorCode, constants.NGHTTP2_ENHANCE_YOUR_CALM)
  const processed = (goaway.lastStreamId + 1) / 2
  assert.ok(processed <= 1_000, `the edge processed ${processed} streams before closing the session`)
  assert.ok(cut, 'the edge sent GOAWAY but kept the connection open')
  // Other connections, from this client or another, are answered.
  const other = h2connect(`https://127.0.0.1:${e.httpsPort}`, { ca, servername: HOST })
  t.after(() => other.close())
  assert.equal((await h2(other, '/')).status, 200)
  assert.equal((await h1(e, ca, '/')).status, 200)
})

test('a client that cancels 50 streams among its requests keeps its session', async (t) => {
  const { e, ca } = await setUp(t, { waf: false })
  const client = await connectRawH2({ host: '127.0.0.1', port: e.httpsPort, servername: HOST, ca })
  t.after(() => client.socket.destroy())
  const answered: number[] = []
  for (let i = 0; i < 50; i++) {
    const cancelled = 4 * i + 1
    const kept = 4 * i + 3
    client.socket.write(
      Buffer.concat([
        getRequest(cancelled, HOST, `/?cancelled=${i}`),
        rstStream(cancelled, CANCEL),
        getRequest(kept, HOST, `/?kept=${i}`),
      ]),
    )
    answered.push(kept)
  }
  for (const id of answered) {
    const head = await client.waitFor((f) => f.type === FRAME.HEADERS && f.streamId === id)
    // 0x88 is HPACK's static table entry 8, `:status: 200`, which nghttp2 always sends indexed.
    assert.equal(head.payload[0], 0x88, `stream ${id}`)
  }
  assert.equal(client.goaway(), undefined)
  assert.equal(client.closed(), false)
})
