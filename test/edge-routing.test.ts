import assert from 'node:assert/strict'
import { test } from 'node:test'
import { send, startEdge, startUpstream, testRoute } from '../src/edge/testing.js'

test('requests are routed by Host to their environment, port and case ignored', async (t) => {
  const a = await startUpstream('a')
  const b = await startUpstream('b')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), b.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_a',
      hosts: ['main.shop.acme.localhost', 'www.shop.example'],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: a.port } },
    }),
  )
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_b',
      hosts: ['main.blog.acme.localhost'],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: b.port } },
    }),
  )

  const ra = await send(e.httpPort, { host: 'MAIN.shop.acme.localhost:8000', path: '/x?y=1' })
  assert.equal(ra.status, 200)
  assert.deepEqual(JSON.parse(ra.body), { name: 'a', method: 'GET', url: '/x?y=1' })
  const custom = await send(e.httpPort, { host: 'www.shop.example' })
  assert.equal(JSON.parse(custom.body).name, 'a')
  const rb = await send(e.httpPort, { host: 'main.blog.acme.localhost' })
  assert.equal(JSON.parse(rb.body).name, 'b')
  assert.match(String(rb.headers['x-request-id']), /^[0-9a-f-]{36}$/)
})

test('an unknown host gets a 404 page that names no tenant', async (t) => {
  const e = await startEdge()
  t.after(() => e.stop())
  e.edge.routes.upsert(
    testRoute({ environmentId: 'env_secret', workspaceId: 'ws_secret', hosts: ['secret.localhost'] }),
  )

  const html = await send(e.httpPort, { host: 'secreT.localhos', headers: { accept: 'text/html,*/*;q=0.8' } })
  assert.equal(html.status, 404)
  assert.match(String(html.headers['content-type']), /text\/html/)
  assert.doesNotMatch(html.body, /secret|env_|ws_/i)
  // any client that does not ask for HTML (curl, API clients) gets the documented JSON error
  const json = await send(e.httpPort, { host: 'nope.localhost' })
  assert.equal(json.status, 404)
  const parsed = JSON.parse(json.body)
  assert.equal(parsed.error.code, 'PAL_EDGE_UNKNOWN_HOST')
  assert.equal(parsed.error.requestId, json.headers['x-request-id'])
  const noHost = await send(e.httpPort, { headers: ['Host', '[::1]'] })
  assert.equal(noHost.status, 404)
})

test('an environment in maintenance answers 503 without reaching the app', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_m',
      hosts: ['m.localhost'],
      maintenance: true,
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: a.port } },
    }),
  )
  const res = await send(e.httpPort, { host: 'm.localhost' })
  assert.equal(res.status, 503)
  assert.match(res.body, /maintenance/)
  assert.equal(a.seen.length, 0)
})

test('an environment with nothing deployed answers 503', async (t) => {
  const e = await startEdge()
  t.after(() => e.stop())
  e.edge.routes.upsert(testRoute({ environmentId: 'env_n', hosts: ['n.localhost'] }))
  const res = await send(e.httpPort, { host: 'n.localhost', headers: { accept: 'application/json' } })
  assert.equal(res.status, 503)
  assert.equal(JSON.parse(res.body).error.code, 'PAL_EDGE_NOT_DEPLOYED')
})

test('a route that asks for HTTPS redirects plain HTTP with 308 to the same host and path', async (t) => {
  const e = await startEdge()
  t.after(() => e.stop())
  e.edge.routes.upsert(testRoute({ environmentId: 'env_r', hosts: ['r.localhost'], httpsRedirect: true }))
  const res = await send(e.httpPort, {
    host: 'r.localhost:8000',
    path: '/a/b?c=d',
    method: 'POST',
    body: 'x',
  })
  assert.equal(res.status, 308)
  assert.equal(res.headers.location, `https://r.localhost:${e.httpsPort}/a/b?c=d`)
})

test('a removed route is no longer served and a host cannot be taken by another environment', async (t) => {
  const e = await startEdge()
  t.after(() => e.stop())
  e.edge.routes.upsert(testRoute({ environmentId: 'env_1', hosts: ['one.localhost'] }))
  assert.throws(
    () => e.edge.routes.upsert(testRoute({ environmentId: 'env_2', hosts: ['one.localhost'] })),
    (error: { code?: string }) => error.code === 'PAL_EDGE_HOST_TAKEN',
  )
  e.edge.routes.remove('env_1')
  assert.equal((await send(e.httpPort, { host: 'one.localhost' })).status, 404)
})
