/**
 * HTTP/2 on the edge's HTTPS listener (issue #23, item 6): ALPN offers h2 and http/1.1, both reach the same
 * pipeline with the same routing, restrictions and WAF verdicts, and an HTTP/2 client cannot flood the edge
 * with streams it cancels at once (rapid reset, CVE-2023-44487).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import argon2 from 'argon2'
import { startEdge, startUpstream, testRoute, type StartedEdge } from '../src/edge/testing.js'
import { createWafInspector } from '../src/edge/waf-inspector.js'
import type { EdgeRoute, InspectedRequest, Inspector } from '../src/edge/types.js'
import { baselineRuleSet, createWaf, DEFAULT_WAF_SETTINGS } from '../src/waf/index.js'

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

async function setUp(t: import('node:test').TestContext, route: Partial<EdgeRoute> = {}) {
  const upstream = await startUpstream('app')
  const seen: InspectedRequest[] = []
  const real = createWafInspector(() => createWaf(baselineRuleSet({ ...DEFAULT_WAF_SETTINGS })))
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
      ...route,
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
    access: { ipAllow: [], basicAuth: { username: 'team', passwordHash: hash } },
  })
  assert.equal((await h2(session, '/')).status, 401)
  const auth = `Basic ${Buffer.from('team:open sesame').toString('base64')}`
  assert.equal((await h2(session, '/', { headers: { authorization: auth } })).status, 200)
  const confused = await h2(session, '/', { headers: { authorization: auth, host: 'other.localhost' } })
  assert.equal(confused.status, 400)
})

test('a client cancelling streams as fast as it opens them (rapid reset) gets its session closed, and the edge keeps answering', async (t) => {
  const { e, ca, session } = await setUp(t)
  assert.equal((await h2(session, '/')).status, 200)
  const flood = h2connect(`https://127.0.0.1:${e.httpsPort}`, { ca, servername: HOST })
  t.after(() => flood.destroy())
  const closed = new Promise<string>((resolve) => {
    flood.on('goaway', (code) => resolve(`goaway ${code}`))
    flood.on('close', () => resolve('close'))
    flood.on('error', (err: Error) => resolve(`error ${err.message}`))
  })
  await new Promise<void>((resolve) => flood.on('connect', () => resolve()))
  let sent = 0
  for (; sent < 20_000 && !flood.closed && !flood.destroyed; sent++) {
    try {
      const s = flood.request({ ':path': `/?n=${sent}`, ':authority': HOST })
      s.on('error', () => undefined)
      s.close(constants.NGHTTP2_CANCEL)
    } catch {
      break
    }
    if (sent % 200 === 0) await new Promise((r) => setImmediate(r))
  }
  const outcome = await Promise.race([
    closed,
    new Promise<string>((r) => setTimeout(() => r('still open'), 10_000)),
  ])
  assert.notEqual(outcome, 'still open', `after ${sent} cancelled streams the session is still open`)
  // Other clients are unaffected.
  const other = h2connect(`https://127.0.0.1:${e.httpsPort}`, { ca, servername: HOST })
  t.after(() => other.close())
  assert.equal((await h2(other, '/')).status, 200)
  assert.equal((await h1(e, ca, '/')).status, 200)
})
