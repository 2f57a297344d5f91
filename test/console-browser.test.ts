import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createServer } from 'node:http'
import { gzipSync } from 'node:zlib'
import { after, describe, test } from 'node:test'
import * as OTPAuth from 'otpauth'
import type { BrowserContext, Page } from 'playwright-core'
import { createRepo, eventually, type TestRepo } from '../src/deploy/testing.js'
import { httpGet } from './deploy-helpers.js'
import { removeSandboxes } from './services-helpers.js'
import {
  assertAccessible,
  CHROMIUM_SKIP,
  CONSOLE_DIR,
  launchContext,
  SCREENSHOTS,
  startServerProcess,
  type ServerProcess,
} from './support/console-browser.js'
import { OWNER } from './support/platform.js'
import { freePort, REPO } from './support/processes.js'

/**
 * The web console in a real browser (Debian's chromium, headless, driven by playwright-core) against a real
 * `palisade serve` (issue #24's acceptance): the tour, the console's own security, accessibility (axe-core),
 * the screenshots of docs/console/ (`npm run console:screenshots` writes them) and the console's figures for
 * BENCHMARKS.md (printed as diagnostics and written to bench/results/console.json).
 */

const SKIP = CHROMIUM_SKIP
const SECRET_VALUE = 'tour-secret-7Q2vX9kP4mZ8'
const XSS = '<img src=x onerror=alert(1)>'
const MEMBER = { email: 'viewer@example.com', password: 'a sturdy passphrase for viewers 7' }
interface Figures {
  consoleJsGzipBytes?: number
  consoleJsAllGzipBytes?: number
  firstLoadToInteractiveMs?: number
  buildLogLatencyMs?: number
}

describe('the web console in a real browser', { skip: SKIP, timeout: 600_000 }, () => {
  const cleanups: Array<() => Promise<void> | void> = []
  const defer = (fn: () => Promise<void> | void) => void cleanups.push(fn)
  after(async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined)
  })
  const figures: Figures = {}
  const seenBodies: Array<{ url: string; body: string }> = []
  const consoleResponses: Array<{ url: string; headers: Record<string, string> }> = []
  const pageErrors: string[] = []
  let server: Pick<ServerProcess, 'apiUrl' | 'stop'>
  let root = ''
  let dataDir = ''
  let edgePort = 0
  let repo: TestRepo
  let owner: BrowserContext
  let page: Page
  let totpSecret = ''
  let envId = ''
  let host = ''
  let shotDir = ''
  let ownerToken = ''

  const base = () => server.apiUrl
  const startSlowServer = async (env: Record<string, string>) => {
    const s = await startServerProcess(env)
    defer(() => s.stop())
    return s
  }
  const api = async (method: string, url: string, body?: unknown, token?: string) => {
    const res = await fetch(base() + url, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, json: (text ? JSON.parse(text) : null) as Record<string, unknown> }
  }
  const totpCode = (offsetSteps: number) =>
    new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(totpSecret), digits: 6, period: 30 }).generate({
      timestamp: Date.now() + offsetSteps * 30_000,
    })

  async function newContext(name: string): Promise<BrowserContext> {
    const context = await launchContext(name, defer)
    context.on('page', (p) => watch(p))
    for (const p of context.pages()) watch(p)
    return context
  }

  /** Records what the console receives: every body (for the secret grep) and the headers of its own files. */
  function watch(p: Page): void {
    p.on('pageerror', (e) => pageErrors.push(String(e)))
    p.on('dialog', (d) => {
      pageErrors.push(`a dialog opened: ${d.message()}`)
      void d.dismiss()
    })
    p.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text())
    })
    p.on('response', (r) => {
      const url = new URL(r.url())
      if (url.origin !== base()) return
      if (!url.pathname.startsWith('/v1/')) consoleResponses.push({ url: url.pathname, headers: r.headers() })
      else if (!url.pathname.endsWith('/logs'))
        void r
          .text()
          .then((body) => seenBodies.push({ url: url.pathname, body }))
          .catch(() => undefined)
    })
  }

  async function shot(p: Page, name: string): Promise<void> {
    await p.screenshot({ path: path.join(shotDir, `${name}.png`), fullPage: true })
  }

  const axe = assertAccessible

  test('set-up: a real palisade serve, the built console and a headless chromium', async () => {
    if (!existsSync(path.join(CONSOLE_DIR, 'index.html'))) {
      const built = spawnSync('npm', ['run', 'console:build'], { cwd: REPO, encoding: 'utf8' })
      assert.equal(built.status, 0, built.stderr)
    }
    // What the first load fetches (the entry named in index.html) and everything (lazy chunks too).
    const gz = (f: string) => gzipSync(readFileSync(path.join(CONSOLE_DIR, 'assets', f))).length
    const entry = /src="\/assets\/([^"]+\.js)"/.exec(
      readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8'),
    )?.[1]
    assert.ok(entry, 'index.html names its entry script')
    figures.consoleJsGzipBytes = gz(entry)
    figures.consoleJsAllGzipBytes = readdirSync(path.join(CONSOLE_DIR, 'assets'))
      .filter((f) => f.endsWith('.js'))
      .reduce((n, f) => n + gz(f), 0)

    root = mkdtempSync(path.join(tmpdir(), 'palisade-console-'))
    chmodSync(root, 0o711)
    defer(() => rmSync(root, { recursive: true, force: true }))
    shotDir = SCREENSHOTS ? path.join(REPO, 'docs', 'console') : path.join(root, 'shots')
    mkdirSync(shotDir, { recursive: true })
    dataDir = path.join(root, 'data')
    repo = createRepo(path.join(root, 'shop'))
    cpSync(path.join(REPO, 'examples/node-hello'), repo.dir, { recursive: true })
    // The build prints a timestamped marker: the browser notes when it shows it (build-log latency).
    const pkg = JSON.parse(readFileSync(path.join(repo.dir, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    pkg.scripts['build'] = `node -e "console.log('CONSOLE-MARK ' + Date.now())"`
    writeFileSync(path.join(repo.dir, 'package.json'), JSON.stringify(pkg, null, 2))
    repo.commit({})
    edgePort = await freePort()
    server = await startSlowServer({
      PALISADE_DATA_DIR: dataDir,
      PALISADE_MASTER_KEY: 'c'.repeat(64),
      PALISADE_EDGE_HTTP_LISTEN: `127.0.0.1:${edgePort}`,
      PALISADE_EDGE_HTTPS_LISTEN: `127.0.0.1:${await freePort()}`,
      PALISADE_GIT_LOCAL_ROOTS: root,
    })
    defer(() => removeSandboxes(envId ? [envId] : []))
    // Setup and 2FA for the owner through the API (the console's part starts at sign-in).
    const setupToken = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim()
    assert.equal(
      (await api('POST', '/v1/setup', { token: setupToken, ...OWNER, workspace: 'acme' })).status,
      201,
    )
    const token = (await api('POST', '/v1/sessions', OWNER)).json['token'] as string
    ownerToken = token
    totpSecret = (await api('POST', '/v1/me/totp', {}, token)).json['secret'] as string
    const confirmed = await api('POST', '/v1/me/totp/confirm', { code: totpCode(0) }, token)
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.json))
    const xss = await api(
      'POST',
      '/v1/workspaces/acme/projects',
      { name: 'xss', repository: repo.dir, description: XSS },
      token,
    )
    assert.equal(xss.status, 201, JSON.stringify(xss.json))

    owner = await newContext('owner')
    page = owner.pages()[0] ?? (await owner.newPage())
  })

  test('first load shows the sign-in form; sign-in with password and TOTP', async () => {
    const started = Date.now()
    await page.goto(base() + '/')
    await page.getByLabel('E-mail').waitFor()
    figures.firstLoadToInteractiveMs = Date.now() - started
    await axe(page, 'sign-in')
    await shot(page, 'sign-in')
    await page.getByLabel('E-mail').fill(OWNER.email)
    await page.getByLabel('Password').fill(OWNER.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    // The code of the next time step: the confirmation used this one, and codes are never accepted twice.
    await page.getByLabel(/Two-factor code/).fill(totpCode(1))
    await page.getByRole('button', { name: 'Verify and sign in' }).click()
    await page.getByRole('heading', { name: 'Workspaces' }).waitFor()
    assert.equal(await page.evaluate('document.cookie'), '', 'the session cookie is HttpOnly')
    assert.equal(await page.evaluate('localStorage.length'), 0, 'nothing is kept in localStorage')
    const cookie = (await owner.cookies()).find((c) => c.name === 'palisade_session')
    assert.ok(cookie?.httpOnly)
    assert.equal(cookie.sameSite, 'Strict')
    await axe(page, 'workspaces')
    await shot(page, 'workspaces')
  })

  test('a project description that is markup renders as text (no XSS)', async () => {
    await page.getByRole('link', { name: 'acme' }).click()
    await page.getByRole('heading', { name: 'Workspace acme' }).waitFor()
    await page.getByRole('link', { name: 'xss' }).click()
    const desc = page.getByTestId('project-description')
    await desc.waitFor()
    assert.equal(await desc.textContent(), XSS)
    assert.equal(await page.locator('img').count(), 0, 'no element was created from the value')
    assert.deepEqual(pageErrors, [])
  })

  test('create a project and an environment, set a secret, deploy while the build log streams', async () => {
    await page.goto(base() + '/workspaces/acme')
    await page.getByLabel('Name').fill('shop')
    await page.getByLabel(/Git repository/).fill(repo.dir)
    await page.getByRole('button', { name: 'Create project' }).click()
    await page.getByRole('heading', { name: 'Project shop' }).waitFor()
    await axe(page, 'project')
    await page.getByLabel('Name').fill('main')
    await page.getByRole('button', { name: 'Create environment' }).click()
    await page.getByRole('heading', { name: /Environment main/ }).waitFor()
    envId = new URL(page.url()).pathname.split('/').pop() ?? ''
    host = (await page.locator('.facts dd').first().textContent()) ?? ''
    assert.equal(host, 'main.shop.acme.localhost')

    await page.getByLabel('Name', { exact: true }).fill('API_KEY')
    await page.getByLabel('Value').fill(SECRET_VALUE)
    await page.getByRole('button', { name: 'Set variable' }).click()
    await page.getByRole('cell', { name: 'API_KEY', exact: true }).waitFor()
    assert.equal(await page.getByText('secret (hidden)').count(), 1)

    // Note when the build's marker line first shows in the page.
    await page.evaluate(`new MutationObserver(() => {
      const log = document.querySelector('[data-testid="build-log"]')
      if (window.markSeenAt === undefined && /CONSOLE-MARK [0-9]/.test(log?.textContent ?? '')) window.markSeenAt = Date.now()
    }).observe(document.body, { subtree: true, childList: true, characterData: true })`)
    await page.getByRole('button', { name: 'Deploy' }).click()
    const log = page.getByTestId('build-log')
    await log.waitFor()
    await page.getByRole('heading', { name: /Deployment #1 succeeded/ }).waitFor({ timeout: 120_000 })
    const text = (await log.textContent()) ?? ''
    const mark = /CONSOLE-MARK (\d+)/.exec(text)
    assert.ok(mark, `the build log shows the build's output: ${text}`)
    const seenAt = (await page.evaluate('window.markSeenAt')) as number | undefined
    assert.ok(seenAt, 'the marker appeared while the page watched (streamed, not loaded afterwards)')
    figures.buildLogLatencyMs = seenAt - Number(mark[1])
    const lines = text.split('\n').filter((l) => l.trim() !== '')
    assert.equal(new Set(lines).size, lines.length, 'no log line is shown twice')
    assert.equal(await page.locator('.phase-done').count(), 4, 'every phase is done')
    await axe(page, 'environment')
    await shot(page, 'environment')
  })

  test('the app answers through the edge; a WAF block shows in the events chart', async () => {
    const ok = await httpGet(edgePort, host, '/', { 'user-agent': 'tour/1.0', accept: 'text/plain' })
    assert.equal(ok.status, 200)
    const attack = await httpGet(edgePort, host, "/?id=1'%20OR%20'1'='1", {
      'user-agent': 'tour/1.0',
      accept: '*/*',
    })
    assert.equal(attack.status, 403)
    await eventually(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click()
      const rules = await page.getByTestId('top-rules').locator('li').count()
      return rules > 0 ? rules : undefined
    })
    const blocked = await page
      .getByTestId('waf-chart')
      .locator('rect.bar')
      .evaluateAll((bars: Array<{ getAttribute(name: string): string | null }>) =>
        bars.reduce((n, b) => n + Number(b.getAttribute('data-count')), 0),
      )
    assert.ok(blocked >= 1, 'the chart counts the block')
    assert.match((await page.getByTestId('top-sources').textContent()) ?? '', /127\.0\.0\.1/)
    await page.getByRole('heading', { name: /WAF events/ }).scrollIntoViewIfNeeded()
    await shot(page, 'waf-events')
  })

  test('roll back to the previous release', async () => {
    repo.commit({ VERSION: '2\n' }, 'second')
    await page.getByRole('button', { name: 'Deploy' }).click()
    await page.getByRole('heading', { name: /Deployment #2 succeeded/ }).waitFor({ timeout: 120_000 })
    await page.getByRole('button', { name: 'Roll back to the previous release' }).click()
    await page.getByRole('heading', { name: /Deployment #3 succeeded/ }).waitFor({ timeout: 120_000 })
    const d = await page.locator('table').first().locator('tbody tr').first().textContent()
    assert.match(d ?? '', /rollback/)
  })

  test('invite a member; the member accepts from the e-mailed link and, as viewer, is offered no deploy', async () => {
    await page.goto(base() + '/workspaces/acme/members')
    await page.getByLabel('E-mail').fill(MEMBER.email)
    await page.getByLabel('Role').selectOption('viewer')
    await page.getByRole('button', { name: 'Invite' }).click()
    await page.getByText(`Invitation sent to ${MEMBER.email}.`).waitFor()
    await axe(page, 'members')
    await shot(page, 'members')
    const outbox = path.join(dataDir, 'outbox')
    const mail = await eventually(() => {
      for (const f of existsSync(outbox) ? readdirSync(outbox) : []) {
        const text = readFileSync(path.join(outbox, f), 'utf8').replace(/=\r?\n/g, '')
        if (text.includes(MEMBER.email)) return text
      }
      return undefined
    })
    const link = /https?:\/\/[^\s"<>]+\/invitations\/inv_[A-Za-z0-9_-]+/.exec(mail)?.[0]
    assert.ok(link, 'the e-mail holds the invitation link')

    const member = await newContext('member')
    const mp = member.pages()[0] ?? (await member.newPage())
    await mp.goto(link)
    await mp.getByRole('heading', { name: 'Join acme' }).waitFor()
    await axe(mp, 'invitation')
    await mp.getByLabel(/Choose a password/).fill(MEMBER.password)
    await mp.getByRole('button', { name: 'Accept the invitation' }).click()
    await mp.getByText('You are now a member of the workspace').waitFor()
    await mp.getByRole('link', { name: 'Sign in' }).click()
    await mp.getByLabel('E-mail').fill(MEMBER.email)
    await mp.getByLabel('Password').fill(MEMBER.password)
    await mp.getByRole('button', { name: 'Sign in' }).click()
    await mp.getByRole('heading', { name: 'Workspaces' }).waitFor()
    await mp.goto(`${base()}/environments/${envId}`)
    await mp.getByRole('heading', { name: 'Releases' }).waitFor()
    await mp.getByRole('heading', { name: 'Variables' }).waitFor()
    await mp.getByRole('cell', { name: 'API_KEY', exact: true }).waitFor()
    assert.equal(
      await mp.getByRole('button', { name: 'Deploy' }).count(),
      0,
      'a viewer sees no deploy button',
    )
    assert.equal(await mp.getByRole('button', { name: /Roll back/ }).count(), 0)
    assert.equal(await mp.getByRole('button', { name: 'Set variable' }).count(), 0)
    // …and the server refuses it all the same.
    const denied = await mp.evaluate(async (id) => {
      const r = await fetch(`/v1/environments/${id}/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
      return r.status
    }, envId)
    assert.equal(denied, 403)
    // 2FA enrolment draws its QR code in the page (no third-party service, no data: URI).
    await mp.goto(`${base()}/account`)
    await mp.getByRole('button', { name: 'Set up two-factor authentication' }).click()
    const qr = mp.getByRole('img', { name: /QR code of the two-factor secret/ })
    await qr.waitFor()
    assert.ok(((await qr.locator('path').getAttribute('d')) ?? '').length > 100, 'the QR code has modules')
    await axe(mp, 'account (2FA enrolment)')
    await member.close()
  })

  test('API tokens are shown once', async () => {
    await page.goto(base() + '/workspaces/acme/tokens')
    await page.getByLabel('Name').fill('ci')
    await page.getByRole('button', { name: 'Create token' }).click()
    const once = page.locator('.secret-once')
    await once.waitFor()
    assert.match((await once.textContent()) ?? '', /^pal_/)
    await page.getByRole('button', { name: 'I have copied it' }).click()
    assert.equal(await page.locator('.secret-once').count(), 0)
    await axe(page, 'tokens')
  })

  test('declare an incident with a typed confirmation; the audit log shows it all, chain verified', async () => {
    await page.goto(base() + '/workspaces/acme/incident')
    await page.getByLabel('Reason').fill('leaked laptop (console tour)')
    const declare = page.getByRole('button', { name: 'Declare incident' })
    assert.equal(await declare.isDisabled(), true, 'not before the workspace name is typed')
    await page.getByLabel(/Type the workspace name/).fill('acme')
    await axe(page, 'incident')
    await shot(page, 'incident')
    await declare.click()
    await page.getByTestId('incident-done').waitFor()

    await page.goto(base() + '/workspaces/acme/audit')
    const verified = page.getByTestId('audit-verified')
    await verified.waitFor()
    assert.match((await verified.textContent()) ?? '', /Chain verified up to event \d+ at /)
    const seen = new Set<string>()
    for (;;) {
      const rows = await page
        .getByTestId('audit-table')
        .locator('tbody tr td.mono:nth-child(4)')
        .allTextContents()
      for (const r of rows) seen.add(r.trim())
      const next = page.getByRole('button', { name: 'Next page' })
      if (await next.isDisabled()) break
      await next.click()
      await page.waitForTimeout(200)
    }
    for (const action of [
      'project.create',
      'environment.create',
      'environment.variable.set',
      'environment.deployment.create',
      'environment.rollback',
      'member.invite',
      'member.create',
      'workspace.incident.create',
    ])
      assert.ok(
        [...seen].some((a) => a === action || a.startsWith(action)),
        `${action} in the audit log (${[...seen].join(', ')})`,
      )
    await page.goto(base() + '/workspaces/acme/audit')
    await verified.waitFor()
    await axe(page, 'audit')
    await shot(page, 'audit')
  })

  test('security: a cross-site request with the session cookie is refused (CSRF)', async () => {
    const cookie = (await owner.cookies()).find((c) => c.name === 'palisade_session')
    assert.ok(cookie)
    // A page on another origin of the same site (another port: SameSite lets the cookie through) posts a
    // body-less rollback, which a browser sends without a preflight.
    const evilPort = await freePort()
    const evilServer = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html')
      res.end('<!doctype html><title>evil</title>')
    })
    await new Promise<void>((r) => evilServer.listen(evilPort, '127.0.0.1', r))
    // The browser keeps its connection to the page open: without closeAllConnections, close() waits a minute.
    defer(
      () =>
        new Promise<void>((r) => {
          evilServer.close(() => r())
          evilServer.closeAllConnections()
        }),
    )
    const before = await api('GET', `/v1/environments/${envId}/deployments`, undefined, ownerToken)
    const p = await page.context().newPage()
    await p.goto(`http://127.0.0.1:${evilPort}/`)
    const statuses: number[] = []
    p.on('response', (r) => {
      if (r.url().endsWith('/rollback')) statuses.push(r.status())
    })
    await p.evaluate(
      `fetch(${JSON.stringify(`${base()}/v1/environments/${envId}/rollback`)}, { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => undefined)`,
    )
    await eventually(() => (statuses.length ? statuses : undefined))
    // 403 (not 401): the cookie went along and the Origin check refused it.
    assert.deepEqual(statuses, [403], 'the forged request was refused by its Origin')
    await p.close()
    const afterForgery = await api('GET', `/v1/environments/${envId}/deployments`, undefined, ownerToken)
    assert.deepEqual(afterForgery.json['items'], before.json['items'], 'no rollback happened')
    // The same with a plain HTTP client holding the cookie: refused without the console's Origin, accepted with it.
    const send = (origin: string | undefined) =>
      fetch(`${base()}/v1/workspaces/acme/projects`, {
        method: 'POST',
        headers: {
          cookie: `palisade_session=${cookie.value}`,
          'content-type': 'application/json',
          ...(origin ? { origin } : {}),
        },
        body: JSON.stringify({ name: 'forged', repository: repo.dir }),
      })
    assert.equal((await send('https://evil.example')).status, 403)
    assert.equal((await send(undefined)).status, 403)
    assert.equal((await send(base())).status, 201)
  })

  test('security: every console response had the strict headers; no secret value reached the browser', async () => {
    assert.ok(consoleResponses.length >= 5, 'the console files were seen')
    for (const r of consoleResponses) {
      const csp = r.headers['content-security-policy'] ?? ''
      assert.match(csp, /default-src 'self'/, r.url)
      assert.match(csp, /frame-ancestors 'none'/, r.url)
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, r.url)
      assert.equal(r.headers['referrer-policy'], 'no-referrer', r.url)
      assert.equal(r.headers['x-content-type-options'], 'nosniff', r.url)
    }
    await new Promise((r) => setTimeout(r, 500))
    assert.ok(
      seenBodies.some((b) => b.url.endsWith('/variables')),
      'the variables answers were inspected',
    )
    const leaks = seenBodies.filter((b) => b.body.includes(SECRET_VALUE)).map((b) => b.url)
    assert.deepEqual(leaks, [], 'the secret value is never sent back to the browser')
    assert.deepEqual(pageErrors, [], 'no script error, dialog or CSP violation in any page')
  })

  test('security: sign-out ends the session on the server (the old cookie is dead)', async () => {
    const cookie = (await owner.cookies()).find((c) => c.name === 'palisade_session')
    assert.ok(cookie)
    await page.goto(base() + '/account')
    await page.getByRole('heading', { name: 'Your account' }).waitFor()
    await axe(page, 'account')
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('E-mail').waitFor()
    assert.equal((await owner.cookies()).filter((c) => c.name === 'palisade_session').length, 0)
    const replay = await fetch(`${base()}/v1/me`, { headers: { cookie: `palisade_session=${cookie.value}` } })
    assert.equal(replay.status, 401)
  })

  test('figures for BENCHMARKS.md', (t) => {
    t.diagnostic(`console figures: ${JSON.stringify(figures)}`)
    mkdirSync(path.join(REPO, 'bench', 'results'), { recursive: true })
    writeFileSync(
      path.join(REPO, 'bench', 'results', 'console.json'),
      JSON.stringify(figures, null, 2) + '\n',
    )
    assert.ok((figures.consoleJsGzipBytes ?? 0) > 0)
  })
})
