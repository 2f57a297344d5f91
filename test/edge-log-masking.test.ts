import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { test } from 'node:test'
import { send, startEdge, startUpstream } from '../src/edge/testing.js'
import { createLogger } from '../src/shared/log.js'
import { setUpOwner, startPlatform, createShopEnvironment } from './support/platform.js'

const SECRET = 'S3cr3t-Valu3-0f-Th3-Env'

/**
 * Threat: credentials in URLs (reset links, session ids, form-style parameters, secret values echoed back)
 * end up in the access log, readable by whoever reads logs. Each form goes through the real edge with the real
 * pino logger; the log text is then searched for every secret.
 */
test('the access log masks secrets in every form: array, nested and dotted names, path parameters, token paths, secret variable values', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await createShopEnvironment(tp, token, workspaceId, { name: 'main' })
  const put = await tp.call('PUT', `/v1/environments/${envId}/variables/STRIPE_KEY`, {
    token,
    body: { value: SECRET, secret: true },
  })
  assert.ok(put.statusCode === 200 || put.statusCode === 201, put.body)

  const app = await startUpstream('app')
  const lines: string[] = []
  const stream = new PassThrough()
  stream.on('data', (c: Buffer) => lines.push(c.toString('utf8')))
  const e = await startEdge({
    logger: createLogger({ level: 'info', destination: stream }),
    secretValues: (id) => tp.platform.tenancy.secretValues.get(id),
  })
  t.after(() => Promise.all([app.close(), e.stop()]))
  await tp.platform.deploy.attachRoutes(e.edge.routes)
  // publish the environment's route (an access rule change does), then point it at the test app
  await tp.call('PUT', `/v1/environments/${envId}/access`, {
    token,
    body: { ipAllow: [], ipGroups: [], password: null },
  })
  const route = e.edge.routes.list().find((r) => r.environmentId === envId)
  assert.ok(route, 'the environment has a route')
  e.edge.routes.upsert({
    ...route,
    target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: app.port } },
  })
  const host = route.hosts[0] as string

  const secrets = [
    ['/login?password[]=pw-array-1&page=2', 'pw-array-1'],
    ['/login?user[password]=pw-nested-2', 'pw-nested-2'],
    ['/login?user%5Bpassword%5D=pw-encoded-3', 'pw-encoded-3'],
    ['/login?user.password=pw-dotted-4', 'pw-dotted-4'],
    ['/login?USER[PASSWORD]=pw-upper-5', 'pw-upper-5'],
    ['/shop;jsessionid=SESSION0123456789?x=1', 'SESSION0123456789'],
    ['/reset/Xk9vQ2mT7pL4rZ8wB1nC5dF3', 'Xk9vQ2mT7pL4rZ8wB1nC5dF3'],
    ['/confirm/5f4dcc3b5aa765d61d8327deb882cf99', '5f4dcc3b5aa765d61d8327deb882cf99'],
    ['/a?sessionid=sess-value-6', 'sess-value-6'],
    ['/a?jwt=jwt-value-7', 'jwt-value-7'],
    ['/a?otp=123456', '123456'],
    ['/a?auth=auth-value-8', 'auth-value-8'],
    ['/a?pass=pass-value-9', 'pass-value-9'],
    ['/a?newPassword=pw-camel-10', 'pw-camel-10'],
    [`/echo?q=${SECRET}`, SECRET],
    [`/echo/${encodeURIComponent(SECRET)}`, SECRET],
  ] as const
  for (const [path] of secrets) {
    const res = await send(e.httpPort, { host, path, headers: { referer: `https://x.example${path}` } })
    assert.equal(res.status, 200, path)
  }
  // ordinary values stay readable
  await send(e.httpPort, { host, path: '/products/12345?page=2&sort=price' })
  assert.equal(app.seen.length, secrets.length + 1)

  const log = lines.join('')
  const entries = log
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; path: string })
  assert.equal(entries.filter((l) => l.msg === 'edge request').length, secrets.length + 1)
  for (const [path, secret] of secrets) assert.ok(!log.includes(secret), `${path}: ${secret} is in the log`)
  assert.ok(log.includes('/products/12345?page=2&sort=price'))
  assert.ok(log.includes('/login?password[]=***&page=2'))
  assert.ok(log.includes('/shop;jsessionid=***?x=1'))
  assert.ok(log.includes('/reset/***'))
})
