import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { signRequest } from '../src/iam/index.js'
import { addMember } from './support/members.js'
import { setUpOwner, startPlatform, type TestPlatform } from './support/platform.js'

/**
 * POST /v1/decide as an external proxy uses it: signed requests only, the edge's WAF verdict, the
 * environment's own tuning, deny events in that environment's WAF log, no audit event, throttled per key.
 */
const PUBLIC = 'http://127.0.0.1:8080'
const SQLI = '/products?id=1%27%20UNION%20SELECT%20password%20FROM%20users--'

interface SignedToken {
  id: string
  token: string
  signingKey: string
}

async function signedToken(tp: TestPlatform, session: string, scopes = ['read']): Promise<SignedToken> {
  const res = await tp.call('POST', '/v1/me/tokens', {
    token: session,
    body: { name: `proxy-${randomBytes(3).toString('hex')}`, scopes, expiresInDays: 1, signed: true },
  })
  assert.equal(res.statusCode, 201, res.body)
  return res.json() as SignedToken
}

function decide(tp: TestPlatform, key: SignedToken, payload: unknown) {
  const body = JSON.stringify(payload)
  const headers = signRequest({
    method: 'POST',
    url: `${PUBLIC}/v1/decide`,
    body,
    keyId: key.id,
    key: Buffer.from(key.signingKey, 'hex'),
    created: Math.floor(Date.now() / 1000),
    nonce: randomBytes(12).toString('base64url'),
  })
  return tp.platform.app.inject({
    method: 'POST',
    url: '/v1/decide',
    headers: { ...headers, 'content-type': 'application/json' },
    payload: body,
  })
}

interface Decision {
  decisionId: string
  decision: 'allow' | 'deny'
  status: number
  score: number
  rules: string[]
}

async function fixture(t: Parameters<typeof startPlatform>[0], settings: Record<string, string> = {}) {
  const tp = await startPlatform(t, 'sqlite', settings)
  const { token, workspaceId } = await setUpOwner(tp)
  const project = (
    await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, { token, body: { name: 'shop' } })
  ).json() as { id: string }
  const env = (
    await tp.call('POST', `/v1/projects/${project.id}/environments`, {
      token,
      body: { name: 'staging', criticality: 'staging' },
    })
  ).json() as { id: string }
  return { tp, token, workspaceId, envId: env.id }
}

const auditCount = async (tp: TestPlatform): Promise<number> =>
  Number(
    (
      await tp.platform.store.db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

test('decide: the edge’s verdict for described requests, the environment’s tuning, deny events, no audit event', async (t) => {
  const { tp, token, envId } = await fixture(t)
  const key = await signedToken(tp, token)

  const benign = await decide(tp, key, {
    method: 'GET',
    uri: '/products?id=42',
    headers: { Host: 'shop.example.com', 'User-Agent': 'Mozilla/5.0', Accept: 'text/html' },
  })
  assert.equal(benign.statusCode, 200, benign.body)
  const allowed = benign.json() as Decision
  assert.equal(allowed.decision, 'allow')
  assert.equal(allowed.status, 200)
  assert.deepEqual(allowed.rules, [])
  assert.equal(
    allowed.decisionId,
    benign.headers['x-request-id'],
    'the decision id is the request id (it is in the logs too)',
  )

  const attack = await decide(tp, key, {
    method: 'GET',
    uri: SQLI,
    headers: { Host: 'shop.example.com', 'User-Agent': 'Mozilla/5.0', Accept: '*/*' },
  })
  assert.equal(attack.statusCode, 200, attack.body)
  const denied = attack.json() as Decision
  assert.equal(denied.decision, 'deny')
  assert.equal(denied.status, 403)
  assert.ok(
    denied.rules.some((r) => r.startsWith('942')),
    `SQL injection rules matched: ${denied.rules.join(',')}`,
  )
  assert.ok(denied.score >= 5)

  // A JSON body goes through the JSON body processor, as at the edge.
  const jsonAttack = await decide(tp, key, {
    method: 'POST',
    uri: 'https://shop.example.com/api/search',
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'curl/8', Accept: '*/*' },
    body: JSON.stringify({ q: '<script>alert(document.cookie)</script>' }),
  })
  assert.equal((jsonAttack.json() as Decision).decision, 'deny', jsonAttack.body)
  const b64 = await decide(tp, key, {
    method: 'POST',
    uri: '/login',
    headers: {
      Host: 'shop.example.com',
      'Content-Type': 'application/x-www-form-urlencoded',
      'User-Agent': 'Mozilla/5.0',
      Accept: '*/*',
    },
    body: Buffer.from('user=admin&pass=x').toString('base64'),
    bodyEncoding: 'base64',
  })
  assert.equal((b64.json() as Decision).decision, 'allow', b64.body)

  // With an environment: its WAF log gets the deny (allows are not stored); the audit log gets nothing.
  const audits = await auditCount(tp)
  const inEnv = await decide(tp, key, {
    method: 'GET',
    uri: SQLI,
    headers: { Host: 'shop.example.com', 'User-Agent': 'Mozilla/5.0', Accept: '*/*' },
    clientIp: '203.0.113.9',
    environment: envId,
  })
  const envDecision = inEnv.json() as Decision
  assert.equal(envDecision.decision, 'deny', inEnv.body)
  await decide(tp, key, {
    method: 'GET',
    uri: '/',
    headers: { Host: 'shop.example.com', 'User-Agent': 'Mozilla/5.0', Accept: '*/*' },
    environment: envId,
  })
  const events = (await tp.call('GET', `/v1/environments/${envId}/waf-events`, { token })).json() as {
    items: Array<{ requestId: string; clientIp: string; uri: string; rules: Array<{ id: number }> }>
  }
  assert.equal(events.items.length, 1)
  assert.equal(events.items[0]!.requestId, envDecision.decisionId)
  assert.equal(events.items[0]!.clientIp, '203.0.113.9')
  assert.ok(events.items[0]!.rules.some((r) => String(r.id).startsWith('942')))
  assert.equal(await auditCount(tp), audits, 'a decision writes no audit event')

  // The environment's tuning decides: a threshold no single request reaches lets the same request through.
  const tuned = await tp.call('PUT', `/v1/environments/${envId}/waf`, {
    token,
    body: { inboundThreshold: 100 },
  })
  assert.equal(tuned.statusCode, 200, tuned.body)
  const lenient = await decide(tp, key, {
    method: 'GET',
    uri: SQLI,
    headers: { Host: 'shop.example.com', 'User-Agent': 'Mozilla/5.0', Accept: '*/*' },
    environment: envId,
  })
  const lenientDecision = lenient.json() as Decision
  assert.equal(lenientDecision.decision, 'allow', lenient.body)
  assert.ok(
    lenientDecision.rules.some((r) => r.startsWith('942')),
    'the rules still match; only the verdict changes',
  )
})

test('decide: signed requests only, authorized per environment, bad input refused', async (t) => {
  const { tp, token, workspaceId, envId } = await fixture(t)
  const ok = { method: 'GET', uri: '/' }

  // A bearer without a signature, even the owner's session, is not enough.
  const unsigned = await tp.call('POST', '/v1/decide', { token, body: ok })
  assert.equal(unsigned.statusCode, 401, unsigned.body)
  assert.equal((await tp.call('POST', '/v1/decide', { body: ok })).statusCode, 401)
  const key = await signedToken(tp, token)
  const tampered = signRequest({
    method: 'POST',
    url: `${PUBLIC}/v1/decide`,
    body: JSON.stringify(ok),
    keyId: key.id,
    key: Buffer.from(key.signingKey, 'hex'),
    created: Math.floor(Date.now() / 1000),
    nonce: 'n-1234567890',
  })
  const forged = await tp.platform.app.inject({
    method: 'POST',
    url: '/v1/decide',
    headers: { ...tampered, 'content-type': 'application/json' },
    payload: JSON.stringify({ ...ok, uri: '/other' }),
  })
  assert.equal(forged.statusCode, 401, 'a body that is not the signed one is refused')

  // Roles on the environment: developers may ask, viewers may not; another workspace's environment is invisible.
  const dev = await addMember(tp, token, workspaceId, 'dev@example.com', 'developer')
  const viewer = await addMember(tp, token, workspaceId, 'viewer@example.com', 'viewer')
  const devKey = await signedToken(tp, dev.token)
  const viewerKey = await signedToken(tp, viewer.token)
  assert.equal((await decide(tp, devKey, { ...ok, environment: envId })).statusCode, 200)
  assert.equal((await decide(tp, viewerKey, { ...ok, environment: envId })).statusCode, 403)
  assert.equal(
    (await decide(tp, viewerKey, ok)).statusCode,
    200,
    'without an environment the default set-up decides for any signed key',
  )
  const other = (
    await tp.call('POST', '/v1/workspaces', { token: dev.token, body: { name: 'devs-own' } })
  ).json() as { id: string }
  const otherProject = (
    await tp.call('POST', `/v1/workspaces/${other.id}/projects`, { token: dev.token, body: { name: 'pp' } })
  ).json() as { id: string }
  const otherEnv = (
    await tp.call('POST', `/v1/projects/${otherProject.id}/environments`, {
      token: dev.token,
      body: { name: 'ee' },
    })
  ).json() as { id: string }
  const foreign = await decide(tp, key, { ...ok, environment: otherEnv.id })
  assert.equal(foreign.statusCode, 404, foreign.body)

  // Bad input: each a 400 in the error format, naming the problem.
  const bad: Array<[string, unknown]> = [
    ['no method', { uri: '/' }],
    ['no uri', { method: 'GET' }],
    ['method with a space', { method: 'GE T', uri: '/' }],
    ['uri too long', { method: 'GET', uri: '/' + 'a'.repeat(8192) }],
    ['unknown field', { ...ok, verdict: 'allow' }],
    ['header name with a colon', { ...ok, headers: { 'X:y': '1' } }],
    [
      'too many headers',
      { ...ok, headers: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-h${i}`, '1'])) },
    ],
    ['bad client ip', { ...ok, clientIp: 'localhost' }],
    ['body not base64', { ...ok, body: '***', bodyEncoding: 'base64' }],
    ['body encoding unknown', { ...ok, body: 'x', bodyEncoding: 'rot13' }],
  ]
  for (const [label, payload] of bad) {
    const res = await decide(tp, key, payload)
    assert.equal(res.statusCode, 400, `${label}: ${res.statusCode} ${res.body}`)
    assert.ok((res.json() as { error: { code: string; requestId: string } }).error.requestId, label)
  }
})

test('decide: throttled per signing key with Retry-After; another key is not affected', async (t) => {
  const { tp, token } = await fixture(t, { decideRatePerMinute: '3' })
  const a = await signedToken(tp, token)
  const b = await signedToken(tp, token)
  const ok = { method: 'GET', uri: '/' }
  for (let i = 0; i < 3; i++) assert.equal((await decide(tp, a, ok)).statusCode, 200)
  const limited = await decide(tp, a, ok)
  assert.equal(limited.statusCode, 429, limited.body)
  assert.ok(Number(limited.headers['retry-after']) >= 1)
  assert.equal((limited.json() as { error: { code: string } }).error.code, 'throttled')
  assert.equal((await decide(tp, b, ok)).statusCode, 200)
})
