import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { OWNER, setUpOwner, startPlatform, type TestPlatform } from './support/platform.js'
import { invitationToken } from './support/members.js'

// The console's server side (issue #24): its files and headers, the cookie session and the same-origin rule.
// A small stand-in for the built console keeps these tests independent of `vite build`.

const HOST = 'console.test:8080'
const ORIGIN = `http://${HOST}`

function fakeConsole(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-console-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(path.join(dir, 'assets'))
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Palisade</title><div id="app"></div>')
  writeFileSync(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1)\n')
  writeFileSync(path.join(dir, 'assets', 'index-abc.css'), 'body{}\n')
  writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  return dir
}

async function platform(
  t: Parameters<typeof startPlatform>[0] & { after(fn: () => void): void },
  settings: Record<string, string> = {},
) {
  const tp = await startPlatform(t, 'sqlite', settings, { consoleDir: fakeConsole(t) })
  return tp
}

function cookieLogin(tp: TestPlatform, headers: Record<string, string> = { origin: ORIGIN }) {
  return tp.call('POST', '/v1/sessions', {
    body: { email: OWNER.email, password: OWNER.password, cookie: true },
    headers: { host: HOST, ...headers },
  })
}

function sessionCookieFrom(setCookie: string | string[] | number | undefined): string {
  const line = String(Array.isArray(setCookie) ? setCookie[0] : setCookie)
  const m = /^palisade_session=([^;]+)/.exec(line)
  assert.ok(m, `no session cookie in ${line}`)
  return `palisade_session=${m[1]}`
}

function assertConsoleHeaders(headers: Record<string, unknown>, what: string): void {
  const csp = String(headers['content-security-policy'])
  assert.match(csp, /default-src 'self'/, what)
  assert.match(csp, /frame-ancestors 'none'/, what)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, what)
  assert.doesNotMatch(csp, /script-src[^;]*(https?:|\*|data:)/, what)
  assert.equal(headers['referrer-policy'], 'no-referrer', what)
  assert.equal(headers['x-content-type-options'], 'nosniff', what)
  assert.equal(headers['x-frame-options'], 'DENY', what)
}

test('every console response carries a strict CSP, frame-ancestors none, no-referrer and nosniff', async (t) => {
  const tp = await platform(t)
  const html = { accept: 'text/html,application/xhtml+xml' }
  for (const [url, type] of [
    ['/', /^text\/html/],
    ['/assets/index-abc.js', /^text\/javascript/],
    ['/assets/index-abc.css', /^text\/css/],
    ['/favicon.svg', /^image\/svg\+xml/],
    ['/workspaces/acme/projects', /^text\/html/],
    ['/invitations/inv_whatever', /^text\/html/],
    ['/no/such/page', /^text\/html/],
  ] as const) {
    const res = await tp.call('GET', url, { headers: html })
    assert.equal(res.statusCode, 200, url)
    assert.match(String(res.headers['content-type']), type, url)
    assertConsoleHeaders(res.headers, url)
  }
  const missing = await tp.call('GET', '/assets/nope.js')
  assert.equal(missing.statusCode, 404)
  assertConsoleHeaders(missing.headers, '/assets/nope.js')
  // Hashed assets are cached for good; the page is revalidated.
  assert.match(String((await tp.call('GET', '/assets/index-abc.js')).headers['cache-control']), /immutable/)
  assert.equal((await tp.call('GET', '/', { headers: html })).headers['cache-control'], 'no-cache')
  // The API keeps its JSON 404 for non-browser clients and under /v1.
  const api404 = await tp.call('GET', '/v1/nothing-here', { headers: html })
  assert.equal(api404.statusCode, 404)
  assert.match(String(api404.headers['content-type']), /json/)
  assert.equal((await tp.call('GET', '/no/such/page')).statusCode, 404)
})

test('a cookie sign-in sets an HttpOnly SameSite=Strict cookie and returns no token to script', async (t) => {
  const tp = await platform(t)
  await setUpOwner(tp)
  const res = await cookieLogin(tp)
  assert.equal(res.statusCode, 201, res.body)
  const body = res.json() as Record<string, unknown>
  assert.equal(body['token'], undefined, 'the token stays out of reach of scripts')
  assert.equal(typeof body['expiresAt'], 'string')
  assert.equal(typeof body['idleTimeoutMinutes'], 'number')
  const line = String(res.headers['set-cookie'])
  assert.match(line, /; HttpOnly/)
  assert.match(line, /; SameSite=Strict/)
  assert.match(line, /; Path=\//)
  assert.doesNotMatch(line, /; Secure/, 'plain HTTP on loopback: a Secure cookie would never be sent back')
  const me = await tp.call('GET', '/v1/me', { headers: { host: HOST, cookie: sessionCookieFrom(line) } })
  assert.equal(me.statusCode, 200, me.body)
  assert.equal((me.json() as { email: string }).email, OWNER.email)
})

test('the cookie is Secure when the console is served over TLS (https public URL)', async (t) => {
  const tp = await platform(t, { publicUrl: 'https://paas.example.com' })
  await setUpOwner(tp)
  const res = await cookieLogin(tp, { origin: 'https://paas.example.com' })
  assert.equal(res.statusCode, 201, res.body)
  assert.match(String(res.headers['set-cookie']), /; Secure/)
})

test('CSRF: a state-changing request with the session cookie is refused unless it comes from the console origin', async (t) => {
  const tp = await platform(t)
  await setUpOwner(tp)
  const cookie = sessionCookieFrom((await cookieLogin(tp)).headers['set-cookie'])
  const create = (headers: Record<string, string>, name: string) =>
    tp.call('POST', '/v1/workspaces/acme/projects', {
      headers: { host: HOST, cookie, ...headers },
      body: { name, repository: 'https://example.com/shop.git' },
    })
  for (const [headers, why] of [
    [{ origin: 'https://evil.example' }, 'another site'],
    [{ origin: 'null' }, 'an opaque origin (sandboxed frame)'],
    [{ origin: 'http://console.test:9999' }, 'another port'],
    [{}, 'no Origin at all'],
  ] as const) {
    const res = await create(headers, 'evil')
    assert.equal(res.statusCode, 403, why)
    const err = (res.json() as { error: { code: string; requestId: string } }).error
    assert.equal(err.code, 'cross_origin', why)
    assert.ok(err.requestId, why)
  }
  for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
    const res = await tp.call(method, '/v1/workspaces/acme', {
      headers: { host: HOST, cookie, origin: 'https://evil.example' },
    })
    assert.equal(res.statusCode, 403, method)
  }
  const list = await tp.call('GET', '/v1/workspaces/acme/projects', { headers: { host: HOST, cookie } })
  assert.deepEqual(
    (list.json() as { items: unknown[] }).items,
    [],
    'nothing was created by a refused request',
  )
  const ok = await create({ origin: ORIGIN }, 'shop')
  assert.equal(ok.statusCode, 201, ok.body)
})

test('a cross-site sign-in (login CSRF) is refused; bearer clients without Origin are unaffected', async (t) => {
  const tp = await platform(t)
  const { token } = await setUpOwner(tp)
  const res = await cookieLogin(tp, { origin: 'https://evil.example' })
  assert.equal(res.statusCode, 403)
  assert.equal(res.headers['set-cookie'], undefined)
  const cli = await tp.call('POST', '/v1/workspaces/acme/projects', {
    token,
    body: { name: 'shop', repository: 'https://example.com/shop.git' },
  })
  assert.equal(cli.statusCode, 201, cli.body)
})

test('the cookie carries sessions only: an API token in it authenticates nothing', async (t) => {
  const tp = await platform(t)
  const { token } = await setUpOwner(tp)
  const created = await tp.call('POST', '/v1/me/tokens', {
    token,
    body: { name: 'ci', scopes: ['read'], expiresInDays: 1 },
  })
  assert.equal(created.statusCode, 201, created.body)
  const apiToken = (created.json() as { token: string }).token
  const res = await tp.call('GET', '/v1/me', { headers: { cookie: `palisade_session=${apiToken}` } })
  assert.equal(res.statusCode, 401)
})

test('logout clears the cookie and ends the session on the server', async (t) => {
  const tp = await platform(t)
  await setUpOwner(tp)
  const cookie = sessionCookieFrom((await cookieLogin(tp)).headers['set-cookie'])
  const out = await tp.call('DELETE', '/v1/sessions/current', {
    headers: { host: HOST, cookie, origin: ORIGIN },
  })
  assert.equal(out.statusCode, 204, out.body)
  assert.match(String(out.headers['set-cookie']), /^palisade_session=; .*Max-Age=0/)
  // The old cookie value, replayed (a copy kept by an attacker), is dead.
  const me = await tp.call('GET', '/v1/me', { headers: { host: HOST, cookie } })
  assert.equal(me.statusCode, 401)
})

test('the invitation description route answers the token holder and 404 for an unknown token', async (t) => {
  const tp = await platform(t)
  const { token } = await setUpOwner(tp)
  const inv = await tp.call('POST', '/v1/workspaces/acme/members', {
    token,
    body: { email: 'dev@example.com', role: 'developer' },
  })
  assert.equal(inv.statusCode, 201, inv.body)
  const unknown = await tp.call('GET', '/v1/invitations/inv_forged0000000000000000')
  assert.equal(unknown.statusCode, 404)
  assert.equal((unknown.json() as { error: { code: string } }).error.code, 'not_found')
})

test('the audit verification route reports the chain verified up to its last event', async (t) => {
  const tp = await platform(t)
  const { token } = await setUpOwner(tp)
  const res = await tp.call('GET', '/v1/workspaces/acme/audit-verification', { token })
  assert.equal(res.statusCode, 200, res.body)
  const v = res.json() as { ok: boolean; count: number; headSeq: number; headAt: string | null }
  assert.equal(v.ok, true)
  assert.ok(v.count > 0)
  assert.equal(typeof v.headAt, 'string')
  const events = await tp.call('GET', '/v1/workspaces/acme/audit-events?limit=1000', { token })
  const items = (events.json() as { items: Array<{ seq: number }> }).items
  assert.equal(v.headSeq, items[items.length - 1]?.seq)
})

test('the invitation link gives a browser the console and any other HTTP client the plain page', async (t) => {
  const tp = await platform(t)
  const { token } = await setUpOwner(tp)
  const inv = await tp.call('POST', '/v1/workspaces/acme/members', {
    token,
    body: { email: 'dev@example.com', role: 'developer' },
  })
  assert.equal(inv.statusCode, 201, inv.body)
  const secret = invitationToken(tp, 'dev@example.com')
  const browser = await tp.call('GET', `/invitations/${secret}`, {
    headers: { accept: 'text/html,application/xhtml+xml' },
  })
  assert.equal(browser.statusCode, 200)
  assert.doesNotMatch(browser.body, /workspace <b>acme<\/b>/)
  assertConsoleHeaders(browser.headers, 'invitation page for a browser')
  // curl and scripts (Accept: */*) read what the invitation is for without running the console.
  const plain = await tp.call('GET', `/invitations/${secret}`, { headers: { accept: '*/*' } })
  assert.equal(plain.statusCode, 200)
  assert.match(plain.body, /workspace <b>acme<\/b> as <b>developer<\/b>/)
})
