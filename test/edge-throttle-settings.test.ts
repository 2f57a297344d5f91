/**
 * Behind a load balancer, a CDN or a carrier NAT every visitor shares one address: the edge's throttle must
 * be a setting of the environment (or off), and the client address must come from the forwarding headers
 * of the installation's trusted proxies only (issue #23, item 7).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forwardedFor } from '../src/edge/edge.js'
import { send, startEdge, startUpstream, testRoute } from '../src/edge/testing.js'
import { loadConfig } from '../src/config/index.js'
import { nodeApp } from '../src/deploy/testing.js'
import { parseThrottle } from '../src/cli/commands/envs.js'
import { startDeployPlatform } from './deploy-helpers.js'

test('an environment sets its own throttle, turns it off, and goes back to the default, at once and audited', async (t) => {
  const p = await startDeployPlatform(t)
  const f = await p.addApp()
  f.repo.commit(nodeApp('v1'))
  assert.equal((await f.deploy()).status, 'succeeded')
  const burst = async (n: number): Promise<number[]> => {
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push((await f.get('/')).status)
    return out
  }

  const tight = await f.call('PATCH', `/v1/environments/${f.envId}`, {
    throttle: { requestsPerSecond: 1, burst: 2 },
  })
  assert.equal(tight.statusCode, 200, tight.body)
  assert.deepEqual((tight.json() as { throttle: unknown }).throttle, { requestsPerSecond: 1, burst: 2 })
  const limited = await burst(8)
  assert.deepEqual(limited.slice(0, 2), [200, 200])
  assert.ok(limited.filter((s) => s === 429).length >= 5, `statuses ${limited.join(',')}`)

  const off = await f.call('PATCH', `/v1/environments/${f.envId}`, { throttle: 'off' })
  assert.equal((off.json() as { throttle: unknown }).throttle, 'off')
  assert.deepEqual([...new Set(await burst(40))], [200])

  const back = await f.call('PATCH', `/v1/environments/${f.envId}`, { throttle: null })
  assert.deepEqual((back.json() as { throttle: unknown }).throttle, { requestsPerSecond: 100, burst: 200 })

  for (const bad of [
    { requestsPerSecond: 0, burst: 1 },
    { requestsPerSecond: 5 },
    'sometimes',
    { requestsPerSecond: 1.5, burst: 3 },
  ]) {
    const r = await f.call('PATCH', `/v1/environments/${f.envId}`, { throttle: bad })
    assert.equal(r.statusCode, 400, `${JSON.stringify(bad)}: ${r.body}`)
    assert.match(r.body, /throttle/)
  }
  const events = await p.platform.store.db
    .selectFrom('audit_events')
    .select(['action', 'changes'])
    .where('action', '=', 'environment.update')
    .where('target_id', '=', f.envId)
    .execute()
  assert.ok(events.filter((e) => String(e.changes).includes('throttle')).length >= 3)
})

test('the CLI reads --throttle as N, N/BURST, off or default, and refuses anything else', () => {
  assert.deepEqual(parseThrottle('50'), { requestsPerSecond: 50, burst: 100 })
  assert.deepEqual(parseThrottle('50/80'), { requestsPerSecond: 50, burst: 80 })
  assert.equal(parseThrottle('off'), 'off')
  assert.equal(parseThrottle('default'), null)
  for (const bad of ['', '-1', 'fast', '1.5', '10/', '1/2/3'])
    assert.throws(() => parseThrottle(bad), /throttle must be/)
})

test('PALISADE_TRUSTED_PROXIES takes addresses and CIDRs, and refuses anything else by name', () => {
  const ok = loadConfig({ trustedProxies: '10.0.0.0/8, 192.0.2.7,2001:db8::/32' })
  assert.deepEqual(ok.trustedProxies, ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'])
  assert.deepEqual(loadConfig({}).trustedProxies, [])
  for (const bad of ['10.0.0.0/33', 'lb.example.com', '10.0.0.0/8/1', '::1/129'])
    assert.throws(() => loadConfig({ trustedProxies: bad }), /PALISADE_TRUSTED_PROXIES/)
})

test('Forwarded (RFC 7239) gives the client address: quotes, brackets and ports removed, obfuscated ones refused', () => {
  assert.deepEqual(forwardedFor('for=192.0.2.60;proto=http;by=203.0.113.43'), ['192.0.2.60'])
  assert.deepEqual(forwardedFor('for="[2001:db8:cafe::17]:4711", for=198.51.100.17:80'), [
    '2001:db8:cafe::17',
    '198.51.100.17',
  ])
  assert.deepEqual(forwardedFor('For="_gazonk"; proto=https'), ['_gazonk'])
  assert.deepEqual(forwardedFor('proto=https'), [''])
})

test('behind a trusted proxy each visitor gets its own budget; the same headers from anyone else are ignored', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge({}, { trustProxy: ['127.0.0.1/32'] })
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_lb',
      hosts: ['lb.localhost'],
      throttle: { requestsPerSecond: 0.01, burst: 2 },
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: a.port } },
    }),
  )
  const via = async (localAddress: string, headers: Record<string, string>): Promise<number> =>
    (await send(e.httpPort, { host: 'lb.localhost', localAddress, headers })).status
  // Through the proxy: ten visitors, two requests each, all within their own budget.
  for (let i = 1; i <= 10; i++) {
    const headers =
      i % 2 === 0 ? { 'x-forwarded-for': `198.51.100.${i}` } : { forwarded: `for="198.51.100.${i}:5555"` }
    assert.deepEqual(
      [await via('127.0.0.1', headers), await via('127.0.0.1', headers)],
      [200, 200],
      `visitor ${i}`,
    )
    assert.equal(await via('127.0.0.1', headers), 429, `visitor ${i}, third request`)
  }
  // From an address that is not a trusted proxy, rotating the header buys nothing.
  const direct: number[] = []
  for (let i = 0; i < 4; i++) direct.push(await via('127.0.0.2', { 'x-forwarded-for': `203.0.113.${i}` }))
  assert.deepEqual(direct, [200, 200, 429, 429])
})
