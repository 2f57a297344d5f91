import assert from 'node:assert/strict'
import { test } from 'node:test'
import argon2 from 'argon2'
import { send, startEdge, startUpstream, testRoute } from '../src/edge/testing.js'

/** Cheap argon2id parameters: the tests check the flow, not the cost. */
const LIGHT = { type: argon2.argon2id, memoryCost: 4096, timeCost: 2 } as const

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

test('the IP allow list admits 127.0.0.1 and refuses 127.0.0.2 with 403', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_ip',
      hosts: ['ip.localhost'],
      access: { ipAllow: ['127.0.0.1/32', '10.0.0.0/8'], basicAuth: null },
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: a.port } },
    }),
  )
  const allowed = await send(e.httpPort, { host: 'ip.localhost', localAddress: '127.0.0.1' })
  assert.equal(allowed.status, 200)
  const denied = await send(e.httpPort, { host: 'ip.localhost', localAddress: '127.0.0.2' })
  assert.equal(denied.status, 403)
  assert.equal(a.seen.length, 1)
})

test('a spoofed X-Forwarded-For does not get past the IP allow list', async (t) => {
  const e = await startEdge()
  t.after(() => e.stop())
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_ip',
      hosts: ['ip.localhost'],
      access: { ipAllow: ['10.1.2.3'], basicAuth: null },
    }),
  )
  const res = await send(e.httpPort, { host: 'ip.localhost', headers: { 'x-forwarded-for': '10.1.2.3' } })
  assert.equal(res.status, 403)
})

test('X-Forwarded-For from a trusted proxy is used for the IP allow list', async (t) => {
  const e = await startEdge({}, { trustProxy: ['127.0.0.1/32'] })
  t.after(() => e.stop())
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_ip',
      hosts: ['ip.localhost'],
      access: { ipAllow: ['10.1.2.3'], basicAuth: null },
    }),
  )
  const viaTrusted = await send(e.httpPort, {
    host: 'ip.localhost',
    localAddress: '127.0.0.1',
    headers: { 'x-forwarded-for': '10.1.2.3' },
  })
  assert.equal(viaTrusted.status, 503) // allowed through to "nothing deployed"
  const viaUntrusted = await send(e.httpPort, {
    host: 'ip.localhost',
    localAddress: '127.0.0.2',
    headers: { 'x-forwarded-for': '10.1.2.3' },
  })
  assert.equal(viaUntrusted.status, 403)
})

test('password protection challenges with Basic, accepts the right password and hides it from the app', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  const passwordHash = await argon2.hash('correct horse', LIGHT)
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_pw',
      hosts: ['pw.localhost'],
      access: { ipAllow: [], basicAuth: { username: 'team', passwordHash } },
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: a.port } },
    }),
  )
  const none = await send(e.httpPort, { host: 'pw.localhost' })
  assert.equal(none.status, 401)
  assert.match(String(none.headers['www-authenticate']), /^Basic realm="[^"]+"/)
  const wrong = await send(e.httpPort, {
    host: 'pw.localhost',
    headers: { authorization: basic('team', 'nope') },
  })
  assert.equal(wrong.status, 401)
  const wrongUser = await send(e.httpPort, {
    host: 'pw.localhost',
    headers: { authorization: basic('other', 'correct horse') },
  })
  assert.equal(wrongUser.status, 401)
  for (let i = 0; i < 3; i++) {
    const ok = await send(e.httpPort, {
      host: 'pw.localhost',
      headers: { authorization: basic('team', 'correct horse') },
    })
    assert.equal(ok.status, 200)
  }
  assert.equal(a.seen.length, 3)
  for (const seen of a.seen) assert.equal(seen.headers.authorization, undefined)
})

test('password guessing is throttled with 429 before argon2 runs', async (t) => {
  const e = await startEdge({ now: () => Date.parse('2026-01-01T00:00:00Z') }) // a frozen clock: no refill
  t.after(() => e.stop())
  const passwordHash = await argon2.hash('s3cret-pass', LIGHT)
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_pw',
      hosts: ['pw.localhost'],
      access: { ipAllow: [], basicAuth: { username: 'team', passwordHash } },
    }),
  )
  const statuses: number[] = []
  for (let i = 0; i < 12; i++) {
    const res = await send(e.httpPort, {
      host: 'pw.localhost',
      headers: { authorization: basic('team', `guess${i}`) },
    })
    statuses.push(res.status)
  }
  assert.deepEqual(statuses.slice(0, 10), Array<number>(10).fill(401))
  assert.equal(statuses[10], 429)
})

test('throttling answers 429 with Retry-After once the burst is spent, per client address', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_t',
      hosts: ['t.localhost'],
      throttle: { requestsPerSecond: 0.01, burst: 3 },
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: a.port } },
    }),
  )
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await send(e.httpPort, { host: 't.localhost' })).status)
  assert.deepEqual(statuses, [200, 200, 200, 429, 429])
  const limited = await send(e.httpPort, { host: 't.localhost' })
  assert.ok(Number(limited.headers['retry-after']) >= 1)
  const other = await send(e.httpPort, { host: 't.localhost', localAddress: '127.0.0.2' })
  assert.equal(other.status, 200)
})
